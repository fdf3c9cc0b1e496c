package io.gputelemetry.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * DCGM exporters on one local port, serving NVIDIA's documented output (the MIG example of
 * src/test/resources/dcgm-exporter/, one whole A100 at 409.692 W and its 1g.5gb instance) as a live
 * exporter would: target {@code t} at {@code /t/T/metrics} (target 0 also at {@code /metrics}) with
 * {@code gpus} GPUs, each with its own UUID, {@code gpu}/{@code device} index and the {@code
 * modelName} label current exporters add; the energy counter advances by 409.692 W x 30 s per
 * answer (so expectations are exact), and can be reset. Each target can be switched to a failure
 * mode.
 *
 * <p>vLLM servers on the same port at {@code /vllm/T/metrics}: the vLLM V0 output of
 * src/test/resources/vllm/ (model facebook/opt-125m) with its three counters set per target: by
 * default they advance by {@link #VLLM_STEP} per answer (and its histograms by their own counts),
 * or hold what a test set with {@link #vllm(int, long, long, long)}.
 *
 * <p>Run on its own: {@code scripts/fixture-exporter.sh [--port P] [--targets N] [--gpus G]}.
 */
public final class FixtureExporter implements AutoCloseable {
  /** How a target answers. */
  public enum Mode {
    NORMAL,
    /** Accepts the request and never answers. */
    HANG,
    /** 200 text/plain with an HTML error page. */
    GARBAGE,
    /** 200 with a text/html content type. */
    HTML,
    /** The first GPU's power is NaN. */
    NAN_POWER,
    /** 50 MB of samples. */
    HUGE,
    /** Closes the connection without an answer. */
    DOWN
  }

  public static final String PARENT_UUID = "GPU-34319582-d595-d1c7-d1d2-179bcfa61660";
  public static final long ENERGY_AT_START = 319159391L;
  public static final long MJ_PER_ANSWER = 12_290_760L;

  private final Vertx vertx = Vertx.vertx();
  private final List<String> template;
  private final int gpus;
  private final HttpServer server;
  private final ConcurrentHashMap<Integer, Mode> modes = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Long> energy = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, List<Long>> served = new ConcurrentHashMap<>();
  private final List<HttpServerRequest> hanging = new CopyOnWriteArrayList<>();

  /** What a vLLM target's counters (prompt, generation, requests) advance by per answer. */
  public static final long[] VLLM_STEP = {120, 48, 3};

  /** The model of the vLLM fixture. */
  public static final String VLLM_MODEL = "facebook/opt-125m";

  private final List<String> vllmTemplate;
  private final ConcurrentHashMap<Integer, long[]> vllm = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Boolean> vllmHeld = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Long> vllmAnswers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, Integer> vllmRestarts = new ConcurrentHashMap<>();

  public FixtureExporter(int port, int gpus) throws Exception {
    this(port, gpus, "127.0.0.1");
  }

  /** On {@code host} (0.0.0.0: every loopback address, so that targets can differ by host). */
  public FixtureExporter(int port, int gpus, String host) throws Exception {
    this.gpus = gpus;
    this.template =
        Files.readAllLines(
                Path.of("src/test/resources/dcgm-exporter/cloud-native-docs-mig.prom"),
                StandardCharsets.UTF_8)
            .stream()
            .map(
                l ->
                    l.replace(
                        "device=\"nvidia0\",",
                        "device=\"nvidia0\",modelName=\"NVIDIA" + " A100-SXM4-40GB\","))
            .toList();
    this.vllmTemplate =
        Files.readAllLines(
            Path.of("src/test/resources/vllm/vllm-v0-opt-125m.prom"), StandardCharsets.UTF_8);
    this.server =
        vertx
            .createHttpServer()
            .requestHandler(this::answer)
            .listen(port, host)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  public int port() {
    return server.actualPort();
  }

  public String url(int target) {
    return "http://127.0.0.1:" + port() + "/t/" + target + "/metrics";
  }

  /** The UUID of one GPU of one target. */
  public static String uuid(int target, int gpu) {
    return String.format("GPU-%08x-d595-d1c7-d1d2-%012x", target, gpu);
  }

  /** The URL of vLLM target {@code t}. */
  public String vllmUrl(int target) {
    return "http://127.0.0.1:" + port() + "/vllm/" + target + "/metrics";
  }

  /**
   * Holds a vLLM target's counters at these totals (until set again or reset); lower than before is
   * a restart of the server (its process_start_time_seconds changes).
   */
  public synchronized void vllm(int target, long prompt, long generation, long requests) {
    long[] before = vllm.get(target);
    if (before != null && (prompt < before[0] || generation < before[1] || requests < before[2])) {
      vllmRestarts.merge(target, 1, Integer::sum);
    }
    vllmHeld.put(target, true);
    vllm.put(target, new long[] {prompt, generation, requests});
  }

  /** A vLLM target restarts: its counters start again from 0 (and advance per answer again). */
  public synchronized void resetVllm(int target) {
    vllmRestarts.merge(target, 1, Integer::sum);
    vllmHeld.remove(target);
    vllm.put(target, new long[3]);
  }

  public void mode(int target, Mode m) {
    modes.put(target, m);
  }

  /** The counter restarts from 0 (a driver reload). */
  public void resetEnergy(int target) {
    energy.put(target, -ENERGY_AT_START);
  }

  /** The energy values of every normal answer of a target so far, in order. */
  public List<Long> served(int target) {
    return List.copyOf(served.getOrDefault(target, List.of()));
  }

  private void answer(HttpServerRequest req) {
    String path = req.path();
    int target;
    if (path.startsWith("/vllm/") && path.endsWith("/metrics")) {
      answerVllm(req, path.substring(6, path.length() - "/metrics".length()));
      return;
    }
    if (path.equals("/metrics")) {
      target = 0;
    } else if (path.startsWith("/t/") && path.endsWith("/metrics")) {
      try {
        target = Integer.parseInt(path.substring(3, path.length() - "/metrics".length()));
      } catch (NumberFormatException e) {
        req.response().setStatusCode(404).end();
        return;
      }
    } else {
      req.response().setStatusCode(404).end();
      return;
    }
    Mode mode = modes.getOrDefault(target, Mode.NORMAL);
    switch (mode) {
      case HANG -> hanging.add(req);
      case DOWN -> req.connection().close();
      case GARBAGE ->
          req.response()
              .putHeader("Content-Type", "text/plain; version=0.0.4")
              .end("<html><body><h1>502 Bad Gateway</h1></body></html>\n");
      case HTML ->
          req.response()
              .putHeader("Content-Type", "text/html; charset=utf-8")
              .end("<html><body>dcgm-exporter</body></html>\n");
      case HUGE -> huge(req, 50);
      default -> {
        long e;
        synchronized (this) {
          e = energy.merge(target, MJ_PER_ANSWER, Long::sum) + ENERGY_AT_START;
          served.computeIfAbsent(target, k -> new CopyOnWriteArrayList<>()).add(e);
        }
        req.response()
            .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .end(body(target, e, mode == Mode.NAN_POWER));
      }
    }
  }

  /** The answer of one target: each template line once per GPU, families kept together. */
  public String body(int target, long energyMj, boolean nanPower) {
    StringBuilder b = new StringBuilder();
    for (String line : template) {
      if (line.isBlank()) {
        continue;
      }
      for (int g = 0; g < gpus; g++) {
        String l =
            line.replace(PARENT_UUID, uuid(target, g))
                .replace("gpu=\"0\"", "gpu=\"" + g + "\"")
                .replace("device=\"nvidia0\"", "device=\"nvidia" + g + "\"")
                .replace("Hostname=\"ub20-a100-k8s\"", "Hostname=\"fixture-node-" + target + "\"");
        if (l.startsWith("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")) {
          l = l.replace("} " + ENERGY_AT_START, "} " + energyMj);
        }
        if (nanPower && g == 0 && l.startsWith("DCGM_FI_DEV_POWER_USAGE")) {
          l = l.substring(0, l.lastIndexOf(' ')) + " NaN";
        }
        b.append(l).append('\n');
      }
    }
    return b.toString();
  }

  private void answerVllm(HttpServerRequest req, String t) {
    int target;
    try {
      target = Integer.parseInt(t);
    } catch (NumberFormatException e) {
      req.response().setStatusCode(404).end();
      return;
    }
    Mode mode = modes.getOrDefault(1000 + target, Mode.NORMAL);
    if (mode == Mode.GARBAGE) {
      req.response()
          .putHeader("Content-Type", "text/plain; version=0.0.4")
          .end("<html><body><h1>502 Bad Gateway</h1></body></html>\n");
      return;
    }
    long[] c;
    long n;
    int restarts;
    synchronized (this) {
      restarts = vllmRestarts.getOrDefault(target, 0);
      n = vllmAnswers.merge(target, 1L, Long::sum);
      c = vllm.computeIfAbsent(target, k -> new long[3]);
      if (!vllmHeld.getOrDefault(target, false)) {
        for (int i = 0; i < 3; i++) {
          c[i] += VLLM_STEP[i];
        }
      }
      c = c.clone();
    }
    req.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(vllmBody(c, n, restarts, mode == Mode.NAN_POWER));
  }

  /**
   * The vLLM answer: the fixture with its counters at {@code c} (prompt, generation, requests;
   * {@code nan}: the prompt counter NaN), its latency histograms times {@code n}, and its process
   * start time 1000 s later per restart.
   */
  public String vllmBody(long[] c, long n, int restarts, boolean nan) {
    StringBuilder b = new StringBuilder();
    for (String line : vllmTemplate) {
      String l = line;
      if (l.startsWith("process_start_time_seconds ")) {
        l = value(l, String.valueOf(1718140558.3 + 1000.0 * restarts));
      } else if (l.startsWith("vllm:prompt_tokens_total{")) {
        l = value(l, nan ? "NaN" : c[0] + ".0");
      } else if (l.startsWith("vllm:generation_tokens_total{")) {
        l = value(l, c[1] + ".0");
      } else if (l.startsWith("vllm:request_success_total{")) {
        l = value(l, c[2] + ".0");
      } else if (l.startsWith("vllm:time_to_first_token_seconds_")
          || l.startsWith("vllm:time_per_output_token_seconds_")
          || l.startsWith("vllm:e2e_request_latency_seconds_")) {
        double v = Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
        l = value(l, String.valueOf(v * n));
      }
      b.append(l).append('\n');
    }
    return b.toString();
  }

  private static String value(String line, String v) {
    return line.substring(0, line.lastIndexOf(' ') + 1) + v;
  }

  /** A vLLM target's failure mode (GARBAGE, or NAN_POWER: a NaN prompt counter). */
  public void vllmMode(int target, Mode m) {
    modes.put(1000 + target, m);
  }

  private void huge(HttpServerRequest req, int megabytes) {
    String line =
        "DCGM_FI_DEV_SM_CLOCK{gpu=\"0\",UUID=\"" + uuid(99, 0) + "\",device=\"nvidia0\"} 1215\n";
    Buffer chunk = Buffer.buffer(line.repeat((1 << 20) / line.length() + 1));
    req.response().setChunked(true).putHeader("Content-Type", "text/plain; version=0.0.4");
    writeChunks(req, chunk, megabytes);
  }

  private void writeChunks(HttpServerRequest req, Buffer chunk, int left) {
    if (left == 0) {
      req.response().end();
      return;
    }
    req.response().write(chunk).onSuccess(v -> writeChunks(req, chunk, left - 1));
  }

  @Override
  public void close() {
    hanging.forEach(r -> r.connection().close());
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  /** Serves targets until killed: {@code [--port P] [--targets N] [--gpus G]}. */
  public static void main(String[] args) throws Exception {
    int port = 9400;
    int targets = 1;
    int gpus = 8;
    String host = "127.0.0.1";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--targets" -> targets = Integer.parseInt(args[i + 1]);
        case "--gpus" -> gpus = Integer.parseInt(args[i + 1]);
        case "--host" -> host = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    FixtureExporter f = new FixtureExporter(port, gpus, host);
    List<String> urls = new ArrayList<>();
    for (int t = 0; t < Math.min(targets, 3); t++) {
      urls.add(f.url(t));
    }
    System.out.println(
        "DCGM fixture exporter: "
            + targets
            + " targets x "
            + gpus
            + " GPUs at http://127.0.0.1:"
            + f.port()
            + "/metrics (target 0) and /t/0../t/"
            + (targets - 1)
            + "/metrics, e.g. "
            + String.join(" ", urls)
            + "; vLLM (counters advancing per answer) at "
            + f.vllmUrl(0)
            + " (/vllm/0../vllm/"
            + (targets - 1)
            + "/metrics)");
    Thread.currentThread().join();
  }
}
