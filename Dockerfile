# seresnet: SE-ResNet-50 ImageNet classification over HTTP.
#
#   docker build -t seresnet .
#   docker run --rm -p 8080:8080 -v "$PWD/weights/seresnet50:/models/seresnet50:ro" seresnet
#
# Weights are not baked in: mount a timm model directory (model.safetensors + config.json, from
# weights/fetch.py or `seresnet synth-weights`) at /models/seresnet50. See docs/deploy.md.
#
# Build arguments:
#   SWIFTPM_GITHUB_MIRROR  where the package manager finds https://github.com/ repositories, for builds
#                          without GitHub access (e.g. /opt/swift-packages/ mounted into the build with -v).

FROM swift:6.3-bookworm AS build
# Unpinned on purpose (hadolint DL3008): the Debian release pins the versions, and pinning point releases
# breaks the build as soon as a security update replaces them on the mirror.
# hadolint ignore=DL3008
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libopenblas-dev libjpeg-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
ARG SWIFTPM_GITHUB_MIRROR=
RUN if [ -n "$SWIFTPM_GITHUB_MIRROR" ]; then git config --global url."$SWIFTPM_GITHUB_MIRROR".insteadOf https://github.com/; fi
WORKDIR /src
# Dependencies first, at the versions Package.resolved pins: this layer is reused until either file changes.
COPY Package.swift Package.resolved ./
RUN swift package resolve
COPY . .
# The Swift runtime and Foundation are linked in, so the runtime image needs no Swift toolchain. The symbol
# table is stripped (-17 MB): a static binary has no backtracer helper in the image to symbolicate with anyway.
RUN swift build -c release --static-swift-stdlib --product seresnet \
 && install -D -m 755 -s "$(swift build -c release --static-swift-stdlib --show-bin-path)/seresnet" /out/usr/local/bin/seresnet \
 && install -D -m 644 weights/imagenet-1k-labels.txt /out/usr/local/share/seresnet/imagenet-1k-labels.txt

FROM debian:bookworm-slim
# Runtime libraries only: OpenBLAS (pthread build, as linked), libjpeg-turbo, OpenSSL (libssl3: libssl + libcrypto); without
# their documentation, manual pages and translations (the same dpkg excludes Debian's slim images use).
# hadolint ignore=DL3008
RUN printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' \
      'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
      > /etc/dpkg/dpkg.cfg.d/seresnet-slim \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libopenblas0-pthread libjpeg62-turbo libssl3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && groupadd --gid 10001 seresnet \
 && useradd --uid 10001 --gid 10001 --no-create-home --no-log-init --home-dir /nonexistent --shell /usr/sbin/nologin seresnet
COPY --from=build /out/ /
ENV SERESNET_MODEL_DIR=/models/seresnet50 \
    SERESNET_LABELS=/usr/local/share/seresnet/imagenet-1k-labels.txt \
    PORT=8080
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
WORKDIR /
EXPOSE 8080
# `seresnet healthcheck` asks GET /readyz on 127.0.0.1:$PORT: no curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["seresnet", "healthcheck"]
LABEL org.opencontainers.image.title="seresnet" \
      org.opencontainers.image.description="SE-ResNet-50 ImageNet classification over HTTP (POST a JPEG to /classify)"
ENTRYPOINT ["seresnet", "serve"]
