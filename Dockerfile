# syntax=docker/dockerfile:1
# gpu-telemetry image, built from a clean clone: `docker build -t gpu-telemetry .` (or `make image`).
# Stage 1 builds the fat jar with Maven; stage 2 runs it on a JRE as an unprivileged user.
# Base images are pinned to exact tags; CI (.github/workflows/image.yml) publishes the result.

# --- build ------------------------------------------------------------------------------------
FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependency layer: resolved from pom.xml alone, so a source change does not download them again.
COPY pom.xml ./
RUN mvn -B -ntp -q dependency:go-offline -DexcludeGroupIds=io.gputelemetry
COPY conf ./conf
COPY src/main ./src/main
# Tests run in CI before the image is built; formatting (spotless) checks the sources, not the image.
RUN mvn -B -ntp -DskipTests -Dspotless.check.skip=true -Dmdep.analyze.skip=true package \
 && cp target/gpu-telemetry.jar /gpu-telemetry.jar

# --- runtime ----------------------------------------------------------------------------------
FROM eclipse-temurin:17.0.13_11-jre-noble AS runtime
ARG VERSION=dev
LABEL org.opencontainers.image.title="gpu-telemetry" \
      org.opencontainers.image.description="GPU and LLM-token telemetry pipeline" \
      org.opencontainers.image.version="${VERSION}"

# A fixed numeric UID/GID so that Kubernetes runAsNonRoot/runAsUser 10001 match the image.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /app \
 && chown app:app /app

WORKDIR /app
COPY --from=build --chown=app:app /gpu-telemetry.jar /app/gpu-telemetry.jar

USER 10001:10001

# /metrics, /health/*, ingest and query API.
EXPOSE 8080

# Heap at 70 % of the container memory limit: the rest holds metaspace, code cache, thread stacks
# and direct buffers (non-heap, measured in docs/deploy.md). An OutOfMemoryError exits so Kubernetes
# restarts the pod instead of leaving a half-working JVM. Arguments (--role producer, verify ...)
# come from the pod; JAVA_TOOL_OPTIONS adds flags without rebuilding; the temp dir is the writable /tmp.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=70", "-XX:+ExitOnOutOfMemoryError", "-Djava.io.tmpdir=/tmp", "-jar", "/app/gpu-telemetry.jar"]
CMD ["--role", "standalone"]
