import HTTP

/// `GET /`: one self-contained page for people with a browser (no external assets: the HTML, CSS and script are
/// this string), and for everything else — curl, KServe v1 clients, which read `status` — a JSON object.
enum WebPage {
    /// What `GET /` answers: the page when the client asks for HTML, else `{"status":"alive",…}`.
    static func response(accept: String?) -> HTTPResponse {
        var response: HTTPResponse
        if let accept, accept.lowercased().contains("text/html") {
            response = HTTPResponse(body: Array(html.utf8))
            response.headers.replaceOrAdd(name: "Content-Type", value: "text/html; charset=utf-8")
            // The page runs only its own inline script and talks only to this server.
            response.headers.replaceOrAdd(
                name: "Content-Security-Policy",
                value: "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src blob:; connect-src 'self'")
        } else {
            response = JSONBody.response(Alive())
        }
        // One URL, two representations: a cache in front must key on Accept (and need not keep either).
        response.headers.replaceOrAdd(name: "Vary", value: "Accept")
        response.headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return response
    }

    /// `GET /` for API clients: liveness and a map of the endpoints.
    struct Alive: Encodable {
        let status = "alive"
        let endpoints = [
            "classify": "POST /classify (a JPEG as the body, or multipart/form-data; ?top_k=N)",
            "health": "GET /healthz", "ready": "GET /readyz", "model": "GET /v1/model", "metrics": "GET /metrics",
            "openapi": "GET /openapi.json",
            "open_inference_protocol": "GET /v2, POST /v2/models/{model}/infer (KServe v2 / Triton HTTP)",
            "kserve_v1": "POST /v1/models/{model}:predict",
        ]
    }

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>seresnet</title>
        <style>
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f4f5f7; }
        main { max-width: 760px; margin: 0 auto; padding: 24px 16px 48px; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        .meta { color: #5b6475; font-size: 13px; margin-bottom: 18px; }
        .meta code { background: #e6e8ee; padding: 1px 4px; border-radius: 3px; }
        #state { font-weight: 600; }
        #state.ready { color: #1f7a35; } #state.not-ready { color: #a33; }
        #drop { display: block; border: 2px dashed #9aa3b5; border-radius: 10px; padding: 28px; text-align: center; background: #fff;
                cursor: pointer; }
        #drop.over { border-color: #3461c9; background: #eef3ff; }
        #result { display: none; margin-top: 20px; gap: 20px; align-items: flex-start; }
        #result.shown { display: flex; flex-wrap: wrap; }
        #preview { max-width: 260px; max-height: 260px; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
        #bars { flex: 1; min-width: 260px; }
        .bar { margin: 0 0 10px; }
        .bar .label { display: flex; justify-content: space-between; font-size: 14px; }
        .bar .track { height: 10px; background: #e3e6ed; border-radius: 5px; overflow: hidden; margin-top: 3px; }
        .bar .fill { height: 100%; background: #3461c9; }
        #timing { color: #5b6475; font-size: 13px; margin-top: 8px; }
        #error { color: #a33; margin-top: 14px; white-space: pre-wrap; }
        footer { margin-top: 28px; font-size: 13px; color: #5b6475; }
        footer a { color: #3461c9; }
        </style>
        </head>
        <body>
        <main>
        <h1>seresnet</h1>
        <div class="meta">Model <code id="model">…</code> · weights SHA-256 <code id="sha">…</code> ·
          <span id="state">checking…</span></div>
        <label id="drop" for="file">Drop a JPEG here, or click to pick one
          <input id="file" type="file" accept="image/jpeg" hidden></label>
        <div id="error"></div>
        <div id="result">
          <img id="preview" alt="the uploaded image">
          <div id="bars"></div>
        </div>
        <div id="timing"></div>
        <footer>
          <a href="/v1/model">/v1/model</a> · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> ·
          API and configuration: the project's README.md · <code>curl --data-binary @cat.jpg /classify</code>
        </footer>
        </main>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        fetch("/v1/model").then((r) => r.ok ? r.json() : Promise.reject(r.status)).then((m) => {
          $("model").textContent = m.name;
          $("sha").textContent = m.weights.sha256.slice(0, 12);
        }).catch(() => { $("model").textContent = "not loaded"; });
        fetch("/readyz").then((r) => {
          $("state").textContent = r.ok ? "ready" : "not ready (" + r.status + ")";
          $("state").className = r.ok ? "ready" : "not-ready";
        });
        let latest = 0;
        let preview = null;
        function show(file) {
          if (!file) return;
          // Only the latest upload's answer is shown, whatever order the answers come back in.
          const request = ++latest;
          $("error").textContent = "";
          $("bars").textContent = "";
          delete $("bars").dataset.done;
          $("timing").textContent = "classifying…";
          if (preview) URL.revokeObjectURL(preview);
          preview = URL.createObjectURL(file);
          $("preview").src = preview;
          $("result").className = "shown";
          fetch("/classify", { method: "POST", body: file, headers: { "Content-Type": "image/jpeg" } })
            .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
            .then(({ ok, body }) => {
              if (request !== latest) return;
              if (!ok) throw new Error(body.error ? body.error.status + " " + body.error.code + ": " + body.error.message : "failed");
              for (const p of body.predictions) {
                const bar = document.createElement("div");
                bar.className = "bar";
                const label = document.createElement("div");
                label.className = "label";
                const name = document.createElement("span");
                name.className = "name";
                name.textContent = p.label;
                const score = document.createElement("span");
                score.textContent = (100 * p.score).toFixed(1) + " %";
                label.append(name, score);
                const track = document.createElement("div");
                track.className = "track";
                const fill = document.createElement("div");
                fill.className = "fill";
                fill.style.width = Math.max(0.5, 100 * p.score) + "%";
                track.append(fill);
                bar.append(label, track);
                $("bars").append(bar);
              }
              const t = body.timing_ms;
              $("timing").textContent = body.image.width + "×" + body.image.height + " · queue " + t.queue + " ms · decode " +
                t.decode + " ms · preprocess " + t.preprocess + " ms · inference " + t.inference + " ms · total " + t.total + " ms";
              $("bars").dataset.done = "true";
            })
            .catch((e) => {
              if (request !== latest) return;
              $("timing").textContent = "";
              $("error").textContent = e.message;
            });
        }
        $("file").addEventListener("change", (e) => show(e.target.files[0]));
        const drop = $("drop");
        drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
        drop.addEventListener("dragleave", () => drop.classList.remove("over"));
        drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); show(e.dataTransfer.files[0]); });
        </script>
        </body>
        </html>
        """
}
