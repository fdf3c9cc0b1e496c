package io.gputelemetry;

import io.gputelemetry.access.KeyRing;
import io.gputelemetry.access.Scope;
import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.health.Health;
import io.gputelemetry.metrics.HttpServerGauges;
import io.gputelemetry.metrics.MeterFilters;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.processor.ProcessorStats;
import io.gputelemetry.processor.ProcessorVerticle;
import io.gputelemetry.producer.ProducerVerticle;
import io.gputelemetry.standalone.EmbeddedKafka;
import io.gputelemetry.standalone.EmbeddedMongo;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.store.Store;
import io.gputelemetry.web.HttpServerVerticle;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One running process of any role: the embedded services (standalone), Vert.x with Micrometer, the
 * role's verticles, the HTTP port, and an orderly shutdown on SIGTERM.
 */
public final class Application implements AutoCloseable {
  private static final Logger LOG = LogManager.getLogger(Application.class);

  private final AppConfig startConfig;
  private AppConfig config;
  private Telemetry telemetry;
  private Vertx vertx;
  private Health health;
  private EmbeddedKafka kafka;
  private EmbeddedMongo mongo;
  private Path tempDir;
  private ProducerVerticle producer;
  private ProcessorVerticle processor;
  private PriceBook prices;
  private Store store;
  private int httpPort;
  private final List<String> deployments = new ArrayList<>();
  private long progressTimer = -1;
  private volatile boolean closed;

  public Application(AppConfig config) {
    this.startConfig = config;
    this.config = config;
  }

  /** Vert.x's default labels but the raw HTTP method, which {@link #methodTag} replaces. */
  private static final Set<Label> VERTX_LABELS =
      EnumSet.copyOf(
          MicrometerMetricsOptions.DEFAULT_LABELS.stream()
              .filter(l -> l != Label.HTTP_METHOD)
              .toList());

  private static Iterable<Tag> methodTag(HttpRequest request) {
    return Tags.of("method", MeterFilters.method(request.method().name()));
  }

  /** Starts everything the role needs; returns once the HTTP port is bound. */
  public Application start() throws Exception {
    AppConfig.Role role = startConfig.role();
    long t0 = System.nanoTime();
    KeyRing keys =
        KeyRing.load(
            startConfig.auth().keysFile(),
            startConfig.ingest().apiKeys(),
            anonymousScopes(startConfig.auth()));
    if (keys.open()) {
      LOG.warn(keys.describe());
    } else {
      LOG.info(keys.describe());
    }
    if (role == AppConfig.Role.STANDALONE) {
      startEmbedded();
    }
    AppConfig.MetricLabels caps = config.metricLabels();
    telemetry =
        new Telemetry(
            role.name().toLowerCase(Locale.ROOT),
            Version.get(),
            new Telemetry.Caps(
                caps.maxGpus(),
                caps.maxNodes(),
                caps.maxGpuModels(),
                caps.maxModels(),
                caps.maxTenants(),
                caps.maxModelTenants()));
    telemetry.tenantLabels(config.auth().tenantLabels());
    // Before the first meter: a few fixed buckets for Vert.x's and the JVM's timers and summaries
    // (Vert.x's publishQuantiles option, off, gave every meter a percentile histogram instead).
    MeterFilters.install(telemetry.registry());
    vertx =
        Vertx.builder()
            .with(
                new VertxOptions()
                    .setMetricsOptions(
                        new MicrometerMetricsOptions()
                            .setEnabled(true)
                            // The method as a bounded label (standard methods, else OTHER):
                            // Vert.x's own label would hand Micrometer each invented method,
                            // which it keeps.
                            .setLabels(VERTX_LABELS)
                            // The HTTP client only scrapes sources, measured per target by
                            // telemetry_source_*: its Vert.x meters would repeat them.
                            .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
                            .setServerRequestTagsProvider(Application::methodTag)
                            .setClientRequestTagsProvider(Application::methodTag)
                            .setPrometheusOptions(
                                new io.vertx.micrometer.VertxPrometheusOptions().setEnabled(true))))
            .withMetrics(new MicrometerMetricsFactory(telemetry.registry()))
            .build();
    health = new Health(vertx);
    telemetry.bindStandardMeters(health::isReady);
    List<Consumer<Router>> routes = new ArrayList<>();
    if (role != AppConfig.Role.PRODUCER) {
      prices = PriceBook.load(config.accounting().priceBook());
      store = new MongoStore(vertx, config.mongo(), config.ledger().retention());
      processor =
          new ProcessorVerticle(
              new ProcessorVerticle.Settings(
                  config.kafka(),
                  config.processor(),
                  config.accounting(),
                  config.events(),
                  config.api().gpuStaleAfter().multipliedBy(5)),
              telemetry,
              health,
              prices,
              store);
      if (config.ledger().enabled()) {
        processor.markingLedger(
            config.ledger().lateness().toMillis(),
            config.longestSampleGap().toMillis(),
            config.readingMaxGap().toMillis());
      }
      deploy(processor);
      UsageService usage =
          new UsageService(
              vertx,
              store,
              prices,
              GpuProfiles.load(config.gpuProfiles()),
              config.accounting().maxSampleGap().toMillis(),
              config.longestSampleGap().toMillis(),
              config.accounting().allocationInterval().toMillis(),
              config.readingMaxGap().toMillis());
      if (config.ledger().enabled()) {
        usage.readingLedger();
        deploy(
            new io.gputelemetry.processor.LedgerWriter(
                store,
                usage,
                config.ledger(),
                "processor-" + ProcessHandle.current().pid() + "-" + java.util.UUID.randomUUID(),
                System::currentTimeMillis));
      }
      io.gputelemetry.accounting.Budgets budgets =
          io.gputelemetry.accounting.Budgets.load(config.budgets().file());
      io.gputelemetry.processor.BudgetWatch budgetWatch =
          new io.gputelemetry.processor.BudgetWatch(
              budgets, config.budgets().interval().toMillis(), usage, telemetry);
      deploy(budgetWatch);
      routes.add(
          new io.gputelemetry.web.ApiRoutes(config.api(), store, usage, prices)
                  .budgets(budgets, budgetWatch::latest)
              ::install);
      routes.add(new io.gputelemetry.web.ReconciliationRoute(config.api(), store, usage)::install);
      routes.add(new io.gputelemetry.web.LatencyRoute(config.api(), store)::install);
      routes.add(
          new io.gputelemetry.web.ExportRoutes(
                  new io.gputelemetry.export.UsageLedgerSource(usage),
                  focusIdentity(config.focusIdentity()),
                  prices.commitments())
              ::install);
    }
    if (role != AppConfig.Role.PROCESSOR) {
      producer =
          new ProducerVerticle(
              config.kafka(), config.simulator(), parser(), config.dataDir(), telemetry, health);
      deploy(producer);
      if (config.scrapes()) {
        io.gputelemetry.source.ServingModels serving = new io.gputelemetry.source.ServingModels();
        deploy(
            new io.gputelemetry.producer.SourcesVerticle(
                config.sources(),
                dcgmMapping(config, serving),
                serving,
                parser(),
                producer.publisher(),
                telemetry.sources(),
                producer.topicsReady(),
                System.getenv()));
      }
    }
    if (producer != null && config.sources().nvidiaSmi() != null) {
      deploy(
          new io.gputelemetry.producer.NvidiaSmiVerticle(
              config.sources().nvidiaSmi(),
              nvidiaSmiStamp(config),
              config.sources(),
              parser(),
              producer.publisher(),
              telemetry.sources(),
              producer.topicsReady()));
    }
    if (producer != null && config.ingest().enabled()) {
      io.gputelemetry.web.IngestRoutes ingest =
          new io.gputelemetry.web.IngestRoutes(
              config.ingest(),
              config.kafka().topics(),
              parser(),
              producer.publisher(),
              telemetry,
              config.liteLlm().enabled()
                  ? new io.gputelemetry.source.LiteLlmMapping(config.liteLlm())
                  : null,
              new io.gputelemetry.source.CloudEventMapping(config.cloudEvents()));
      routes.add(ingest::install);
    }
    if (producer != null && config.otlp().enabled()) {
      List<String> tenantAttributes = config.otlp().tenantAttributes();
      io.gputelemetry.web.OtlpRoutes otlp =
          new io.gputelemetry.web.OtlpRoutes(
              config.otlp(),
              config.ingest(),
              config.kafka().topics(),
              parser(),
              producer.publisher(),
              telemetry,
              new io.gputelemetry.source.OtlpTraces(tenantAttributes),
              new io.gputelemetry.source.OtlpMetrics(
                  tenantAttributes, config.sources().gpuModels(), modelMap(config)));
      routes.add(otlp::install);
    }
    routes.add(io.gputelemetry.web.OpenApiRoute::install);
    routes.add(
        new io.gputelemetry.web.PipelineRoute(
                role.name().toLowerCase(Locale.ROOT),
                processor == null ? null : processor.stats(),
                producer == null
                    ? null
                    : () -> producer.publisher() == null ? 0 : producer.publisher().acked(),
                health,
                telemetry,
                role == AppConfig.Role.PROCESSOR ? List.of() : config.sources().targets())
            ::install);
    routes.add(
        role == AppConfig.Role.PRODUCER
            ? io.gputelemetry.web.ConsoleRoutes::installPointer
            : io.gputelemetry.web.ConsoleRoutes::install);
    // Several event loops serve the port (Vert.x shares one host:port between them round-robin):
    // ingest parses and validates on the event loop, so one loop would cap it at one core.
    int instances =
        config.http().instances() > 0
            ? config.http().instances()
            : Math.min(4, Runtime.getRuntime().availableProcessors());
    httpPort = config.http().port() == 0 ? freePort(config.http().host()) : config.http().port();
    AppConfig.Http bound = new AppConfig.Http(config.http().host(), httpPort, instances);
    HttpServerGauges httpGauges = new HttpServerGauges(telemetry.registry());
    HttpServerVerticle.Limits limits =
        new HttpServerVerticle.Limits(config.connections(), telemetry);
    String httpId =
        vertx
            .deployVerticle(
                () ->
                    new HttpServerVerticle(
                        bound, limits, telemetry, httpGauges, health, keys, routes),
                new io.vertx.core.DeploymentOptions().setInstances(instances))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    deployments.add(httpId);
    LOG.info(
        "gpu-telemetry {} {} started in {} ms: http://{}:{}/ (metrics /metrics, health"
            + " /health/ready)",
        Version.get(),
        role.name().toLowerCase(Locale.ROOT),
        (System.nanoTime() - t0) / 1_000_000,
        config.http().host().equals("0.0.0.0") ? "127.0.0.1" : config.http().host(),
        httpPort);
    if (role == AppConfig.Role.STANDALONE && !config.standalone().progressInterval().isZero()) {
      startProgress(config.standalone().progressInterval());
    }
    return this;
  }

  private static Set<Scope> anonymousScopes(AppConfig.Auth auth) {
    Set<Scope> out = EnumSet.noneOf(Scope.class);
    for (String name : auth.anonymousScopes()) {
      Scope s = Scope.of(name);
      if (s == null) {
        throw ConfigException.bad("auth.anonymous-scopes", "scopes among " + Scope.names(), name);
      }
      out.add(s);
    }
    return out;
  }

  private void startEmbedded() throws IOException {
    Path dataDir = startConfig.dataDir();
    Path kafkaDir;
    if (dataDir == null) {
      tempDir = Files.createTempDirectory("gpu-telemetry-");
      kafkaDir = tempDir.resolve("kafka");
    } else {
      kafkaDir = dataDir.resolve("kafka");
    }
    long t0 = System.nanoTime();
    kafka = new EmbeddedKafka(kafkaDir, startConfig.standalone().kafkaPort());
    kafka.start();
    mongo = new EmbeddedMongo(dataDir, startConfig.standalone().mongoPort());
    mongo.start();
    config = startConfig.withEndpoints(kafka.bootstrapServers(), mongo.connectionString());
    LOG.info(
        "embedded Kafka at {} (log in {}), embedded MongoDB-wire store at {} ({}), up in {} ms",
        kafka.bootstrapServers(),
        dataDir == null ? "a temporary directory" : kafkaDir,
        mongo.connectionString(),
        mongo.persistent() ? "file-backed in " + dataDir : "in memory",
        (System.nanoTime() - t0) / 1_000_000);
  }

  /** How nvidia-smi's samples are stamped: node (this host's name by default), model, interval. */
  private static io.gputelemetry.source.NvidiaSmiCsv.Stamp nvidiaSmiStamp(AppConfig config) {
    AppConfig.NvidiaSmi n = config.sources().nvidiaSmi();
    String node = n.node();
    if (node == null) {
      try {
        node = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.net.UnknownHostException e) {
        node = "localhost";
      }
      node = node.replaceAll("[^A-Za-z0-9._:-]", "-");
      node = node.isEmpty() || !Character.isLetterOrDigit(node.charAt(0)) ? "n" + node : node;
    }
    double interval = n.interval().toMillis() / 1000.0;
    return new io.gputelemetry.source.NvidiaSmiCsv.Stamp(
        node,
        n.model(),
        config.sources().gpuModels(),
        interval,
        interval * config.accounting().sampleGapIntervals(),
        java.time.ZoneId.systemDefault());
  }

  private static io.gputelemetry.source.DcgmMapping dcgmMapping(
      AppConfig config, io.gputelemetry.source.ServingModels serving) {
    return new io.gputelemetry.source.DcgmMapping(
        config.sources().gpuModels(),
        modelMap(config),
        config.accounting().sampleGapIntervals(),
        serving);
  }

  private static io.gputelemetry.source.ModelMap modelMap(AppConfig config) {
    try {
      return io.gputelemetry.source.ModelMap.parse(config.sources().modelMap());
    } catch (IllegalArgumentException e) {
      throw new io.gputelemetry.config.ConfigException(
          "setting 'sources.model-map' (env GPUTEL_SOURCES_MODEL_MAP): " + e.getMessage());
    }
  }

  private EventParser parser() {
    return new EventParser(config.events().maxFutureSkew(), config.events().maxAge());
  }

  /** A free port for "port 0": chosen here so that every event loop can share it. */
  private static int freePort(String host) throws IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName(host))) {
      return s.getLocalPort();
    }
  }

  private void deploy(io.vertx.core.Deployable verticle) throws Exception {
    String id =
        vertx
            .deployVerticle(verticle)
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    deployments.add(id);
  }

  private void startProgress(Duration every) {
    long[] last = {0, 0, System.nanoTime()};
    progressTimer =
        vertx.setPeriodic(
            every.toMillis(),
            t -> {
              ProcessorStats s = processor.stats();
              long produced = producer.publisher() == null ? 0 : producer.publisher().acked();
              double secs = (System.nanoTime() - last[2]) / 1e9;
              long stored = s.stored.get();
              long tokens = s.tokens.get();
              LOG.info(
                  "produced {} | stored {} ({}/s) | duplicates {} | dlq {} | lag {} | {} tokens/s |"
                      + " ready {}",
                  produced,
                  stored,
                  Math.round((stored - last[0]) / secs),
                  s.duplicates.get(),
                  s.dlq.get(),
                  s.lag.get(),
                  Math.round((tokens - last[1]) / secs),
                  health.isReady() ? "yes" : "no");
              last[0] = stored;
              last[1] = tokens;
              last[2] = System.nanoTime();
            });
  }

  public AppConfig config() {
    return config;
  }

  public int httpPort() {
    return httpPort;
  }

  public ProducerVerticle producer() {
    return producer;
  }

  public ProcessorVerticle processor() {
    return processor;
  }

  /**
   * For a bounded simulation: completes once the simulator has finished and (with a processor in
   * this process) every event Kafka acknowledged has been stored or dead-lettered.
   */
  public Future<Void> drained(Duration timeout) {
    if (producer == null) {
      return Future.succeededFuture();
    }
    return producer
        .simulationDone()
        .compose(
            v -> {
              if (processor == null) {
                return Future.succeededFuture();
              }
              io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
              long deadline = System.nanoTime() + timeout.toNanos();
              vertx.setPeriodic(
                  100,
                  t -> {
                    ProcessorStats s = processor.stats();
                    long accounted = s.stored.get() + s.duplicates.get() + s.dlq.get();
                    if (accounted >= producer.publisher().acked()) {
                      vertx.cancelTimer(t);
                      p.tryComplete();
                    } else if (System.nanoTime() > deadline) {
                      vertx.cancelTimer(t);
                      p.tryFail(
                          "only "
                              + accounted
                              + " of "
                              + producer.publisher().acked()
                              + " events stored within "
                              + timeout);
                    }
                  });
              return p.future();
            });
  }

  /**
   * Orderly stop: producer first (no new events), then the processor (finishes and commits its
   * batch), then the rest.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (vertx != null) {
      if (progressTimer >= 0) {
        vertx.cancelTimer(progressTimer);
      }
      List<String> reverse = new ArrayList<>(deployments);
      java.util.Collections.reverse(reverse);
      // Deployed as processor, producer, http: stop http and producer before the processor.
      for (String id : reverse) {
        try {
          vertx.undeploy(id).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          LOG.warn("stopping a component: {}", e.toString());
        }
      }
      if (store != null) {
        try {
          store.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          LOG.warn("closing the store: {}", e.toString());
        }
      }
      health.close();
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("closing Vert.x: {}", e.toString());
      }
      telemetry.close();
    }
    if (mongo != null) {
      mongo.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (tempDir != null) {
      deleteRecursively(tempDir);
    }
    LOG.info("stopped");
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temp dir left behind is harmless.
    }
  }

  /**
   * Runs until SIGTERM / Ctrl-C, or until a bounded simulation has been stored (unless
   * simulator.exit-when-done is false: then on until SIGTERM); returns the exit code.
   */
  public static int runUntilStopped(AppConfig config) throws Exception {
    Application app = new Application(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              app.close();
              stopped.countDown();
            },
            "shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      app.start();
    } catch (io.gputelemetry.config.ConfigException e) {
      app.close();
      throw e;
    } catch (Exception e) {
      LOG.error("start-up failed: {}", e.getMessage());
      return 1;
    }
    boolean bounded =
        config.simulator().enabled()
            && config.role() != AppConfig.Role.PROCESSOR
            && config.simulator().bounds().bounded();
    if (!bounded) {
      stopped.await();
      return 0;
    }
    int[] rc = {0};
    CountDownLatch done = new CountDownLatch(1);
    app.drained(Duration.ofMinutes(2))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                ProcessorStats s = app.processor == null ? null : app.processor.stats();
                LOG.info(
                    "run complete: {} events acknowledged by Kafka{}",
                    app.producer.publisher().acked(),
                    s == null
                        ? ""
                        : ", "
                            + s.stored.get()
                            + " stored, "
                            + s.duplicates.get()
                            + " duplicates, "
                            + s.dlq.get()
                            + " dead-lettered");
              } else {
                LOG.error("run incomplete: {}", ar.cause().getMessage());
                rc[0] = 1;
              }
              done.countDown();
            });
    done.await();
    if (!config.simulator().bounds().exitWhenDone()) {
      // simulator.exit-when-done=false: the run's data stays on view until SIGTERM / Ctrl-C.
      LOG.info("serving until stopped (simulator.exit-when-done=false)");
      stopped.await();
      return rc[0];
    }
    Runtime.getRuntime().removeShutdownHook(hook);
    app.close();
    return rc[0];
  }

  /** The FOCUS export's identity columns as the settings give them (export.focus.*). */
  private static io.gputelemetry.export.FocusCsv.Identity focusIdentity(AppConfig.FocusIdentity s) {
    return new io.gputelemetry.export.FocusCsv.Identity(
        s.providerName(),
        s.publisherName(),
        s.invoiceIssuerName(),
        s.billingAccountId(),
        s.billingAccountName());
  }
}
