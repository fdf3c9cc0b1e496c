package io.gputelemetry.producer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.discovery.Discoveries;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.metrics.SourceMeters;
import io.gputelemetry.source.DcgmMapping;
import io.gputelemetry.source.LatencyWindow;
import io.gputelemetry.source.PromText;
import io.gputelemetry.source.ServingModels;
import io.gputelemetry.source.VllmMapping;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Scrapes the configured DCGM exporter and vLLM / NIM targets, each at its own interval, and
 * publishes their GPU samples and counter readings through the same validation and publisher as the
 * HTTP ingest; the servers' latency histograms become per-model quantiles on /metrics. Requests are
 * non-blocking; parsing and mapping run on a worker. A target that fails is counted and logged (see
 * {@link TargetHealth}), never fatal; an answer over sources.max-body-bytes is cut off, not
 * buffered.
 */
public final class SourcesVerticle extends VerticleBase {
  /** The source label of what DCGM targets produce. */
  public static final String DCGM = "dcgm";

  /** The source label of what vLLM / NIM targets produce. */
  public static final String VLLM = "vllm";

  /** The quantiles of the latency gauges. */
  static final double[] QUANTILES = {0.5, 0.9, 0.99};

  /** The most models one vLLM target may report (more are left out and counted). */
  static final int MAX_MODELS_PER_TARGET = 32;

  private static final String STATIC = "static";
  private static final Logger LOG = LogManager.getLogger(SourcesVerticle.class);
  private static final String ACCEPT =
      "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1";

  private final AppConfig.Sources config;
  private final DcgmMapping mapping;
  private final VllmMapping vllm = new VllmMapping();
  private final ServingModels serving;
  private final LatencyWindow latency;
  private final EventParser parser;
  private final EventPublisher publisher;
  private final SourceMeters meters;
  private final Future<Void> ready;
  private final Map<String, String> env;
  private final Map<String, Scrape> scrapes = new LinkedHashMap<>();
  private Discoveries discoveries;
  private DiscoveryLoop discovery;
  private HttpClientAgent client;
  private volatile boolean stopping;

  /** One target and its running state (touched on this verticle's event loop only). */
  private final class Scrape {
    final AppConfig.Target target;
    final SourceMeters.Target meters;
    final TargetHealth health;
    final Set<String> owners = new HashSet<>();
    boolean inFlight;
    boolean removed;
    long timer = -1;
    long lastProblemLog;

    /** vLLM: the last totals per model (prompt, generation, requests), to tell a reset. */
    final Map<String, long[]> lastTotals = new HashMap<>();

    Scrape(AppConfig.Target target) {
      this.target = target;
      this.meters = SourcesVerticle.this.meters.target(target.kind(), target.url());
      this.health =
          new TargetHealth(
              "source " + target.kind() + " " + target.url(), "scrape", config.warnEvery());
    }
  }

  /**
   * What one answer gave: valid events, the reasons of what was left out, and (vLLM) the models
   * whose latency histograms were read.
   */
  private record Mapped(List<Event> events, List<String[]> rejected, List<String> latencyModels) {}

  /**
   * @param ready completes when the topics exist; scraping and discovery start then
   * @param env the process environment (where a pod finds its Kubernetes API)
   */
  public SourcesVerticle(
      AppConfig.Sources config,
      DcgmMapping mapping,
      EventParser parser,
      EventPublisher publisher,
      SourceMeters meters,
      Future<Void> ready,
      Map<String, String> env) {
    this(config, mapping, new ServingModels(), parser, publisher, meters, ready, env);
  }

  /**
   * @param serving what the vLLM targets serve, filled here and read by {@code mapping} (the same
   *     instance) for the GPUs' model
   * @param env the process environment (where a pod finds its Kubernetes API)
   */
  public SourcesVerticle(
      AppConfig.Sources config,
      DcgmMapping mapping,
      ServingModels serving,
      EventParser parser,
      EventPublisher publisher,
      SourceMeters meters,
      Future<Void> ready,
      Map<String, String> env) {
    this.config = config;
    this.env = env;
    this.mapping = mapping;
    this.serving = serving;
    this.latency = new LatencyWindow(config.latencyWindow().toMillis(), MAX_MODELS_PER_TARGET);
    this.parser = parser;
    this.publisher = publisher;
    this.meters = meters;
    this.ready = ready;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    for (AppConfig.Target t : config.targets()) {
      Scrape s = new Scrape(t);
      s.owners.add(STATIC);
      scrapes.put(t.url(), s);
    }
    discoveries = new Discoveries(vertx, config, env);
    discovery =
        new DiscoveryLoop(
            vertx,
            discoveries.all(),
            config.discovery().refresh(),
            config.warnEvery(),
            meters,
            new DiscoveryLoop.Listener() {
              @Override
              public void found(String owner, AppConfig.Target t) {
                add(owner, t);
              }

              @Override
              public void lost(String owner, AppConfig.Target t) {
                remove(owner, t);
              }
            });
    ready.onSuccess(
        v -> {
          int n = scrapes.size();
          int i = 0;
          for (Scrape s : scrapes.values()) {
            long interval = s.target.interval().toMillis();
            // Spread the scrapes over an interval rather than a burst every interval.
            schedule(s, Math.max(1, interval * i++ / Math.max(1, n)));
          }
          LOG.info(
              "scraping {} source targets{}",
              n,
              config.discovery().any()
                  ? " and those of "
                      + (config.discovery().dns().size() + config.discovery().kubernetes().size())
                      + " discoveries (every "
                      + config.discovery().refresh().toSeconds()
                      + " s)"
                  : "");
          discovery.start();
        });
    return Future.succeededFuture();
  }

  private void schedule(Scrape s, long offset) {
    long interval = s.target.interval().toMillis();
    s.timer =
        vertx.setTimer(
            offset,
            id -> {
              scrape(s);
              if (!s.removed) {
                s.timer = vertx.setPeriodic(interval, p -> scrape(s));
              }
            });
  }

  /** A discovered target: scraped from now on, its first scrape at a point of its interval. */
  private void add(String owner, AppConfig.Target t) {
    Scrape s = scrapes.get(t.url());
    if (s != null) {
      // The same URL from another discovery (or a static target): the first one's settings hold.
      s.owners.add(owner);
      return;
    }
    s = new Scrape(t);
    s.owners.add(owner);
    scrapes.put(t.url(), s);
    long interval = t.interval().toMillis();
    schedule(s, 1 + Math.floorMod(t.url().hashCode(), interval));
  }

  /** A target its discovery no longer finds: no more scrapes, its series gone from /metrics. */
  private void remove(String owner, AppConfig.Target t) {
    Scrape s = scrapes.get(t.url());
    if (s == null || !s.owners.remove(owner) || !s.owners.isEmpty()) {
      return;
    }
    s.removed = true;
    vertx.cancelTimer(s.timer);
    scrapes.remove(t.url());
    meters.remove(t.kind(), t.url());
  }

  private void scrape(Scrape s) {
    if (stopping || s.inFlight || s.removed) {
      return; // the timeout is at most the interval: the one before is about to end
    }
    s.inFlight = true;
    long t0 = System.nanoTime();
    AppConfig.Target t = s.target;
    fetch(t)
        .compose(body -> vertx.executeBlocking(() -> map(t, body, Instant.now()), false))
        .compose(m -> publish(s, m))
        .onComplete(
            ar -> {
              s.inFlight = false;
              long now = System.currentTimeMillis();
              long nanos = System.nanoTime() - t0;
              if (ar.succeeded()) {
                s.meters.succeeded(nanos, now, ar.result());
                s.health.succeeded(now);
              } else {
                ScrapeFailure f =
                    ar.cause() instanceof ScrapeFailure sf
                        ? sf
                        : new ScrapeFailure("connect", String.valueOf(ar.cause().getMessage()));
                s.meters.failed(f.reason(), nanos);
                s.health.failed(f, now);
              }
            });
  }

  /** The body of one answer, or a ScrapeFailure; never more than max-body-bytes. */
  private Future<Buffer> fetch(AppConfig.Target t) {
    Promise<Buffer> body = Promise.promise();
    long timeout = t.timeout().toMillis();
    long timer =
        vertx.setTimer(
            timeout,
            id ->
                body.tryFail(
                    new ScrapeFailure("timeout", "no complete answer within " + timeout + " ms")));
    body.future().onComplete(ar -> vertx.cancelTimer(timer));
    client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(t.url())
                .setConnectTimeout(timeout)
                .setIdleTimeout(timeout))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                body.tryFail(new ScrapeFailure("connect", ar.cause().getMessage()));
                return;
              }
              HttpClientRequest req = ar.result();
              // A cut-off or late answer: drop the connection (a reset of an HTTP/1.1 stream
              // only logs an error), the pool opens a new one for the next scrape.
              body.future().onFailure(e -> req.connection().close());
              req.putHeader("Accept", ACCEPT);
              req.send()
                  .onComplete(
                      r -> {
                        if (r.failed()) {
                          body.tryFail(
                              new ScrapeFailure("connect", String.valueOf(r.cause().getMessage())));
                        } else {
                          read(r.result(), body);
                        }
                      });
            });
    return body.future();
  }

  private void read(HttpClientResponse resp, Promise<Buffer> body) {
    if (resp.statusCode() != 200) {
      body.tryFail(
          new ScrapeFailure(
              "http_status", "HTTP " + resp.statusCode() + " " + resp.statusMessage()));
      return;
    }
    String type = resp.getHeader("Content-Type");
    if (type == null
        || !(type.startsWith("text/plain") || type.startsWith("application/openmetrics-text"))) {
      body.tryFail(
          new ScrapeFailure(
              "content_type",
              "content type '" + type + "' (expected text/plain or application/openmetrics-text)"));
      return;
    }
    int max = config.maxBodyBytes();
    Buffer buf = Buffer.buffer();
    resp.handler(
        chunk -> {
          if (buf.length() + chunk.length() > max) {
            body.tryFail(
                new ScrapeFailure(
                    "too_large",
                    "answer longer than sources.max-body-bytes ("
                        + max
                        + " bytes); cut off there"));
          } else if (!body.future().isComplete()) {
            buf.appendBuffer(chunk);
          }
        });
    resp.exceptionHandler(
        e -> body.tryFail(new ScrapeFailure("connect", String.valueOf(e.getMessage()))));
    resp.endHandler(v -> body.tryComplete(buf));
  }

  /** On a worker: parse, map, validate. */
  private Mapped map(AppConfig.Target t, Buffer body, Instant now) {
    PromText.Exposition e;
    try {
      e = PromText.parse(body.toString(StandardCharsets.UTF_8), config.maxLineChars());
    } catch (PromText.ParseException ex) {
      throw new ScrapeFailure("parse", "not Prometheus text: " + ex.getMessage());
    }
    if (VLLM.equals(t.kind())) {
      return mapVllm(t, e, now);
    }
    DcgmMapping.Result r = mapping.map(e, t, now);
    List<String[]> rejected = new ArrayList<>();
    r.problems().forEach(p -> rejected.add(new String[] {p.reason(), p.message()}));
    List<Event> events = new ArrayList<>(r.samples().size());
    for (ObjectNode sample : r.samples()) {
      ParseResult p = parser.parse(EventType.GPU_SAMPLE, sample, now, null);
      if (p.ok()) {
        events.add(p.event());
      } else {
        rejected.add(
            new String[] {
              "invalid", sample.path("gpu_uuid").asText() + ": " + p.violations().toString()
            });
      }
    }
    return new Mapped(events, rejected, List.of());
  }

  /** On a worker: a vLLM / NIM answer to counter readings, and its histograms into the window. */
  private Mapped mapVllm(AppConfig.Target t, PromText.Exposition e, Instant now) {
    VllmMapping.Result r = vllm.map(e, t, now);
    List<String[]> rejected = new ArrayList<>();
    r.problems().forEach(p -> rejected.add(new String[] {p.reason(), p.message()}));
    List<Event> events = new ArrayList<>(r.readings().size());
    List<String> models = new ArrayList<>();
    for (ObjectNode reading : r.readings()) {
      String model = reading.path("model").asText();
      if (models.size() >= MAX_MODELS_PER_TARGET) {
        rejected.add(new String[] {"too_many_models", "model " + model + " left out"});
        continue;
      }
      models.add(model);
      ParseResult p = parser.parse(EventType.TOKEN_USAGE, reading, now, null);
      if (p.ok()) {
        events.add(p.event());
      } else {
        rejected.add(new String[] {"invalid", "model " + model + ": " + p.violations()});
      }
    }
    serving.served(t, models);
    List<String> latencyModels = new ArrayList<>();
    long at = now.toEpochMilli();
    r.latencies()
        .forEach(
            (model, byLatency) ->
                byLatency.forEach(
                    (name, h) -> {
                      if (latency.observe(t.url(), model, name, h.buckets(), at)
                          && !latencyModels.contains(model)) {
                        latencyModels.add(model);
                      }
                    }));
    return new Mapped(events, rejected, latencyModels);
  }

  /**
   * vLLM: a counter below its previous reading means the server restarted (accounting counts from 0
   * there); it is counted and logged per target, and the reading is kept.
   */
  private void checkResets(Scrape s, List<Event> readings) {
    for (Event e : readings) {
      long[] now = {
        e.integer(EventFields.T_PROMPT_TOTAL, 0),
        e.integer(EventFields.T_GENERATION_TOTAL, 0),
        e.integer(EventFields.T_REQUESTS_TOTAL, 0)
      };
      String model = e.text(EventFields.T_MODEL);
      long[] before = s.lastTotals.put(model, now);
      if (before != null && (now[0] < before[0] || now[1] < before[1] || now[2] < before[2])) {
        s.meters.counterReset();
        LOG.warn(
            "source {} {}: counters of model {} went down (prompt {} -> {}, generation {} -> {},"
                + " requests {} -> {}): the server restarted, counting from 0",
            s.target.kind(),
            s.target.url(),
            model,
            before[0],
            now[0],
            before[1],
            now[1],
            before[2],
            now[2]);
      }
    }
  }

  private void registerLatency(List<String> models) {
    for (String model : models) {
      for (String name : VllmMapping.LATENCIES.keySet()) {
        for (double q : QUANTILES) {
          meters.latency(
              model, name, q, () -> latency.quantile(model, name, q, System.currentTimeMillis()));
        }
      }
    }
  }

  private Future<Integer> publish(Scrape s, Mapped m) {
    long now = System.currentTimeMillis();
    if (VLLM.equals(s.target.kind())) {
      checkResets(s, m.events());
      registerLatency(m.latencyModels());
    }
    m.rejected().forEach(r -> s.meters.rejected(r[0], 1));
    if (!m.rejected().isEmpty() && now - s.lastProblemLog >= config.warnEvery().toMillis()) {
      s.lastProblemLog = now;
      LOG.warn(
          "source {} {}: {} {} left out (next report of this target in {} s at the earliest): {}",
          s.target.kind(),
          s.target.url(),
          m.rejected().size(),
          VLLM.equals(s.target.kind()) ? "readings" : "samples",
          config.warnEvery().toSeconds(),
          String.join("; ", m.rejected().stream().limit(5).map(r -> r[0] + ": " + r[1]).toList()));
    }
    return publisher
        .publishAll(m.events(), s.target.kind())
        .map(
            o -> {
              if (o.failed() > 0) {
                s.meters.rejected("kafka", o.failed());
                LOG.warn(
                    "source {} {}: Kafka did not acknowledge {} of {} samples: {}",
                    s.target.kind(),
                    s.target.url(),
                    o.failed(),
                    m.events().size(),
                    o.firstError().getMessage());
              }
              return o.acknowledged();
            });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (discovery != null) {
      discovery.stop();
    }
    scrapes.values().forEach(s -> vertx.cancelTimer(s.timer));
    List<Future<Void>> closing = new ArrayList<>();
    if (discoveries != null) {
      closing.add(discoveries.close());
    }
    if (client != null) {
      closing.add(client.close());
    }
    return Future.join(closing);
  }
}
