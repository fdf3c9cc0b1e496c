import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open-loop (rate-paced) HTTP ingest load: POSTs token-usage events in batches at a fixed request
 * rate whatever the server's latency, and measures each request's latency from the moment it was
 * due (so a slow server is not hidden by sending less: no coordinated omission). Event ids are
 * unique per run. Waits for every request in flight before reporting.
 *
 * <p>PacedLoad URL EVENTS_PER_S BATCH SECONDS CONNECTIONS RUN_ID [WARMUP_SECONDS] The warm-up
 * (default 5 s) runs at the same rate first; its requests are sent and counted as accepted events
 * but left out of the latency figures (JIT of both sides). Progress goes to stderr.
 */
public final class PacedLoad {
  static final String[] TENANTS = {"acme", "globex", "initech", "umbrella", "hooli"};
  static final String[] MODELS = {
    "llama-3.1-70b-instruct", "llama-3.1-8b-instruct", "mistral-7b-instruct"
  };

  public static void main(String[] a) throws Exception {
    java.net.URI url = java.net.URI.create(a[0]);
    double eventsPerS = Double.parseDouble(a[1]);
    int batch = Integer.parseInt(a[2]);
    double seconds = Double.parseDouble(a[3]);
    int conns = Integer.parseInt(a[4]);
    String runId = a[5];
    double warmup = a.length > 6 ? Double.parseDouble(a[6]) : 5;
    double reqPerS = eventsPerS / batch;
    long warm = Math.round(reqPerS * warmup);
    long total = warm + Math.round(reqPerS * seconds);
    Vertx vertx = Vertx.vertx();
    HttpClientAgent client =
        vertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(conns).setMaxWaitQueueSize(-1));
    long[] latencyNs = new long[(int) total];
    AtomicLong ok = new AtomicLong(),
        non2xx = new AtomicLong(),
        errors = new AtomicLong(),
        accepted = new AtomicLong();
    CountDownLatch done = new CountDownLatch((int) total);
    long[] seq = {0};
    long start = System.nanoTime() + 50_000_000L;
    AtomicLong completed = new AtomicLong();
    vertx.setPeriodic(
        1000,
        t ->
            System.err.printf(
                Locale.ROOT,
                "paced: due %d sent %d completed %d%n",
                Math.min(total, (long) ((System.nanoTime() - start) / 1e9 * reqPerS)),
                seq[0],
                completed.get()));
    vertx.setPeriodic(
        1,
        t -> {
          long now = System.nanoTime();
          while (seq[0] < total) {
            long due = start + (long) (seq[0] * 1e9 / reqPerS);
            if (due > now) {
              break;
            }
            int idx = (int) seq[0]++;
            Buffer body = Buffer.buffer(body(runId, idx, batch));
            RequestOptions ro =
                new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setHost(url.getHost())
                    .setPort(url.getPort())
                    .setURI(url.getPath())
                    .putHeader("Content-Type", "application/json");
            client
                .request(ro)
                .compose(req -> req.send(body))
                .compose(resp -> resp.body().map(b -> resp.statusCode()))
                .onComplete(
                    ar -> {
                      latencyNs[idx] = System.nanoTime() - due;
                      completed.incrementAndGet();
                      if (ar.failed()) {
                        errors.incrementAndGet();
                      } else if (ar.result() / 100 == 2) {
                        ok.incrementAndGet();
                        accepted.addAndGet(batch);
                      } else {
                        non2xx.incrementAndGet();
                      }
                      done.countDown();
                    });
          }
          if (seq[0] >= total) {
            vertx.cancelTimer(t);
          }
        });
    done.await();
    double elapsed = (System.nanoTime() - start) / 1e9;
    long[] l = Arrays.copyOfRange(latencyNs, (int) warm, (int) total);
    Arrays.sort(l);
    System.out.println(
        String.format(
            Locale.ROOT,
            "PACED target_events_per_s=%.0f batch=%d requests=%d ok=%d non2xx=%d errors=%d"
                + " accepted_events=%d achieved_events_per_s=%.0f p50_ms=%.2f p90_ms=%.2f"
                + " p99_ms=%.2f max_ms=%.2f",
            eventsPerS,
            batch,
            total - warm,
            ok.get(),
            non2xx.get(),
            errors.get(),
            accepted.get(),
            accepted.get() / elapsed,
            pct(l, 0.50),
            pct(l, 0.90),
            pct(l, 0.99),
            l.length == 0 ? 0 : l[l.length - 1] / 1e6));
    client.close();
    vertx.close();
    System.exit(errors.get() + non2xx.get() == 0 ? 0 : 3);
  }

  static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }

  static String body(String runId, int idx, int batch) {
    String ts = Instant.now().toString();
    StringBuilder sb = new StringBuilder(batch * 300 + 2);
    if (batch > 1) {
      sb.append('[');
    }
    for (int i = 0; i < batch; i++) {
      if (i > 0) {
        sb.append(',');
      }
      long n = (long) idx * batch + i;
      int h = (int) (n * 2654435761L >>> 7);
      sb.append("{\"event_id\":\"paced-")
          .append(runId)
          .append('-')
          .append(n)
          .append("\",\"ts\":\"")
          .append(ts)
          .append("\",\"tenant\":\"")
          .append(TENANTS[Math.floorMod(h, TENANTS.length)])
          .append("\",\"model\":\"")
          .append(MODELS[Math.floorMod(h >> 3, MODELS.length)])
          .append("\",\"provider\":\"vllm\",\"input_tokens\":")
          .append(100 + Math.floorMod(h, 1900))
          .append(",\"output_tokens\":")
          .append(20 + Math.floorMod(h >> 5, 600))
          .append(",\"latency_ms\":")
          .append(200 + Math.floorMod(h >> 2, 3000))
          .append(".5")
          .append(",\"gpu_uuid\":\"GPU-5a1c0f2e-8d3b-4c6e-9f10-")
          .append("00000000000")
          .append(Math.floorMod(h, 8))
          .append("\",\"node\":\"gpu-node-0")
          .append(1 + Math.floorMod(h, 2))
          .append("\"}");
    }
    if (batch > 1) {
      sb.append(']');
    }
    return sb.toString();
  }
}
