# gpu-telemetry runtime image: the fat jar on a JRE, as an unprivileged user.
# Build the jar first (make image does both): mvn -B -DskipTests package && docker build -t gpu-telemetry:0.1.0 .
FROM eclipse-temurin:17-jre

# A fixed numeric UID/GID so that Kubernetes runAsNonRoot/runAsUser 10001 match the image.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /app \
 && chown app:app /app

WORKDIR /app
COPY --chown=app:app target/gpu-telemetry.jar /app/gpu-telemetry.jar

USER 10001:10001

# /metrics, /health/*, ingest and query API.
EXPOSE 8080

# Heap follows the container memory limit; an OutOfMemoryError exits so Kubernetes restarts the pod
# instead of leaving a half-working JVM. Arguments (--role producer, verify ...) come from the pod.
# JAVA_TOOL_OPTIONS adds flags without rebuilding; the temp dir stays on the writable /tmp volume.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-Djava.io.tmpdir=/tmp", "-jar", "/app/gpu-telemetry.jar"]
CMD ["--role", "standalone"]
