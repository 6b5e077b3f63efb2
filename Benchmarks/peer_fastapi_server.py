#!/usr/bin/env python3
"""The peer a Python user would write for the end-to-end benchmark: FastAPI + uvicorn + onnxruntime or OpenVINO with
its defaults (2 threads) + Pillow with timm's eval preprocessing (Resize(235, bicubic) on the shorter side, CenterCrop(224), ToTensor,
Normalize — what timm.data.create_transform builds for seresnet50, spelled out with Pillow and numpy because
torch is not installed here). Same weights (exported to ONNX by onnx_reference.py), same top-5 JSON.

  uvicorn --app-dir Benchmarks peer_fastapi_server:app --port 8081      (env PEER_ONNX=model.onnx, PEER_THREADS=2)

PEER_ENGINE=onnxruntime (default) or openvino: OpenVINO's CPU plugin with its defaults but the thread count (bf16 on
CPUs with AVX512_BF16, as a user who installs it gets).

PEER_MODE=threadpool (default) runs the blocking work in Starlette's thread pool, as FastAPI does for a plain
`def` endpoint — the usual way to keep the event loop free; PEER_MODE=eventloop runs it inline in the
`async def` endpoint (requests are then served one at a time, each with all of onnxruntime's threads).
"""
import io
import math
import os

import numpy as np
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)
SIZE, RESIZE = 224, math.floor(224 / 0.95)

THREADS = int(os.environ.get("PEER_THREADS", "2"))
if os.environ.get("PEER_ENGINE", "onnxruntime") == "openvino":
    import openvino as ov

    core = ov.Core()
    network = core.read_model(os.environ["PEER_ONNX"])
    network.reshape({"input": [1, 3, SIZE, SIZE]})
    compiled = core.compile_model(network, "CPU", {"INFERENCE_NUM_THREADS": THREADS})
    requests = __import__("queue").SimpleQueue()

    def infer(x):
        # One infer request per concurrent call (an infer request is not reentrant), reused.
        try:
            request = requests.get_nowait()
        except Exception:  # noqa: BLE001 - queue.Empty
            request = compiled.create_infer_request()
        try:
            return request.infer({"input": x})[compiled.output(0)]
        finally:
            requests.put(request)
else:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(os.environ["PEER_ONNX"], options, providers=["CPUExecutionProvider"])

    def infer(x):
        return session.run(None, {"input": x})[0]
app = FastAPI()


def preprocess(data):
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    if width <= height:
        size = (RESIZE, int(RESIZE * height / width))
    else:
        size = (int(RESIZE * width / height), RESIZE)
    image = image.resize(size, Image.BICUBIC)
    left, top = int(round((size[0] - SIZE) / 2.0)), int(round((size[1] - SIZE) / 2.0))
    image = image.crop((left, top, left + SIZE, top + SIZE))
    array = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return ((array - MEAN) / STD)[None]


def predict(data):
    try:
        x = preprocess(data)
    except Exception as error:  # noqa: BLE001 - what a typical service does with a bad upload
        return JSONResponse({"error": str(error)}, status_code=400)
    logits = infer(x)[0]
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    top = np.argsort(-probabilities)[:5]
    return {"predictions": [{"index": int(i), "score": float(probabilities[i])} for i in top]}


THREADPOOL = os.environ.get("PEER_MODE", "threadpool") == "threadpool"


@app.post("/classify")
async def classify(request: Request):
    data = await request.body()
    return await run_in_threadpool(predict, data) if THREADPOOL else predict(data)
