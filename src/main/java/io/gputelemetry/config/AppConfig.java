package io.gputelemetry.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Typed, validated configuration of every role, built once from {@link Settings}. */
public record AppConfig(
    Role role,
    Http http,
    Log log,
    Kafka kafka,
    Mongo mongo,
    Simulator simulator,
    Processor processor,
    Standalone standalone,
    Verify verify,
    Events events,
    Ingest ingest,
    Accounting accounting,
    Api api,
    Path dataDir,
    Settings settings) {

  /** What a process runs. */
  public enum Role {
    PRODUCER,
    PROCESSOR,
    STANDALONE
  }

  /** Log output format. */
  public enum LogFormat {
    TEXT,
    JSON
  }

  public record Http(String host, int port, int instances) {}

  public record Log(LogFormat format, String level) {}

  public record Kafka(
      String bootstrapServers,
      String gpuMetricsTopic,
      String tokenUsageTopic,
      String dlqTopic,
      int partitions,
      short replicationFactor,
      int minInsyncReplicas,
      Duration requestTimeout,
      Map<String, String> client,
      Map<String, String> producer,
      Map<String, String> consumer) {}

  public record Mongo(
      String connectionString, String database, Duration retention, Duration timeout) {}

  public record Simulator(
      boolean enabled,
      long seed,
      int nodes,
      int gpusPerNode,
      List<String> gpuModels,
      List<String> models,
      List<String> tenants,
      double rate,
      Duration sampleInterval,
      Duration duration,
      Long count,
      int maxInFlight) {}

  public record Processor(
      String groupId,
      int maxBatchRecords,
      Duration pollTimeout,
      int maxRecordBytes,
      Duration initialBackoff,
      Duration maxBackoff,
      Duration shutdownTimeout) {}

  public record Standalone(int kafkaPort, int mongoPort, Duration progressInterval) {}

  public record Verify(long maxLag, int samplePerPartition) {}

  public record Events(Duration maxFutureSkew, Duration maxAge) {}

  public record Accounting(
      Path priceBook,
      Duration window,
      Duration allowedLateness,
      Duration maxSampleGap,
      Duration refreshInterval,
      Duration allocationInterval) {}

  public record Api(
      Duration maxRange, int maxSteps, Duration gpuStaleAfter, double gpuIdleBelowPct) {}

  /** HTTP ingest; {@code apiKeys} maps each key to its bound tenant ("" when unbound). */
  public record Ingest(
      boolean enabled,
      int maxBodyBytes,
      int maxEvents,
      Map<String, String> apiKeys,
      int maxPending,
      Duration retryAfter) {
    @Override
    public String toString() {
      return "Ingest[enabled=" + enabled + ", keys=" + apiKeys.size() + "]";
    }
  }

  public static AppConfig from(Settings s) {
    String dataDir = s.optional("data-dir");
    return new AppConfig(
        s.choice("role", Role.class),
        new Http(
            s.string("http.host"),
            s.integer("http.port", 0, 65535),
            s.integer("http.instances", 0, 64)),
        new Log(s.choice("log.format", LogFormat.class), level(s)),
        new Kafka(
            s.string("kafka.bootstrap.servers"),
            s.string("kafka.topic.gpu-metrics"),
            s.string("kafka.topic.token-usage"),
            s.string("kafka.topic.dlq"),
            s.integer("kafka.topic.partitions", 1, 10_000),
            (short) s.integer("kafka.topic.replication-factor", 1, 32),
            s.integer("kafka.topic.min-insync-replicas", 0, 32),
            positive(s, "kafka.request-timeout"),
            s.withPrefix("kafka.client."),
            s.withPrefix("kafka.producer."),
            s.withPrefix("kafka.consumer.")),
        new Mongo(
            mongoUri(s),
            s.string("mongo.database"),
            positive(s, "mongo.retention"),
            positive(s, "mongo.timeout")),
        new Simulator(
            s.bool("simulator.enabled"),
            s.optionalLong("simulator.seed", Long.MIN_VALUE) == null
                ? 42
                : s.optionalLong("simulator.seed", Long.MIN_VALUE),
            s.integer("simulator.nodes", 1, 10_000),
            s.integer("simulator.gpus-per-node", 1, 64),
            s.list("simulator.gpu-models"),
            s.list("simulator.models"),
            s.list("simulator.tenants"),
            s.number("simulator.rate", 0, 1_000_000),
            positive(s, "simulator.sample-interval"),
            s.optionalDuration("simulator.duration"),
            s.optionalLong("simulator.count", 0),
            s.integer("producer.max-in-flight", 1, 10_000_000)),
        new Processor(
            s.string("processor.group-id"),
            s.integer("processor.max-batch-records", 1, 100_000),
            positive(s, "processor.poll-timeout"),
            s.integer("processor.max-record-bytes", 1024, 64 * 1024 * 1024),
            positive(s, "processor.retry.initial-backoff"),
            positive(s, "processor.retry.max-backoff"),
            positive(s, "processor.shutdown-timeout")),
        new Standalone(
            s.integer("standalone.kafka-port", 0, 65535),
            s.integer("standalone.mongo-port", 0, 65535),
            s.optionalDuration("standalone.progress-interval") == null
                ? Duration.ZERO
                : s.optionalDuration("standalone.progress-interval")),
        new Verify(
            s.optionalLong("verify.max-lag", 0) == null
                ? Long.MAX_VALUE
                : s.optionalLong("verify.max-lag", 0),
            s.integer("verify.sample-per-partition", 1, 1_000_000)),
        new Events(positive(s, "events.max-future-skew"), positive(s, "events.max-age")),
        new Ingest(
            s.bool("ingest.enabled"),
            s.integer("ingest.max-body-bytes", 1024, 512 * 1024 * 1024),
            s.integer("ingest.max-events", 1, 1_000_000),
            apiKeys(s),
            s.integer("ingest.max-pending", 1, 100_000_000),
            positive(s, "ingest.retry-after")),
        new Accounting(
            s.optional("pricing.price-book") == null
                ? null
                : Path.of(s.optional("pricing.price-book")),
            positive(s, "accounting.window"),
            s.duration("accounting.allowed-lateness"),
            positive(s, "accounting.max-sample-gap"),
            positive(s, "accounting.refresh-interval"),
            positive(s, "accounting.allocation-interval")),
        new Api(
            positive(s, "api.max-range"),
            s.integer("api.max-steps", 1, 100_000),
            positive(s, "api.gpu-stale-after"),
            s.number("api.gpu-idle-below-pct", 0, 100)),
        dataDir == null ? null : Path.of(dataDir),
        s);
  }

  private static String level(Settings s) {
    String v = s.string("log.level").toLowerCase(java.util.Locale.ROOT);
    if (!List.of("trace", "debug", "info", "warn", "error").contains(v)) {
      throw ConfigException.bad("log.level", "one of trace debug info warn error", v);
    }
    return v;
  }

  private static Map<String, String> apiKeys(Settings s) {
    String v = s.optional("ingest.api-keys");
    Map<String, String> keys = new java.util.LinkedHashMap<>();
    if (v == null) {
      return keys;
    }
    for (String entry : v.split(",")) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int colon = e.lastIndexOf(':');
      String key = colon > 0 ? e.substring(0, colon) : e;
      String tenant = colon > 0 ? e.substring(colon + 1) : "";
      if (key.length() < 16 || !tenant.matches("|[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")) {
        throw new ConfigException(
            "setting 'ingest.api-keys' (env GPUTEL_INGEST_API_KEYS): expected comma-separated KEY"
                + " or KEY:TENANT entries with keys of at least 16 characters and valid tenant"
                + " names");
      }
      keys.put(key, tenant);
    }
    return keys;
  }

  private static Duration positive(Settings s, String key) {
    Duration d = s.duration(key);
    if (d.isZero() || d.isNegative()) {
      throw ConfigException.bad(key, "a positive duration", s.raw(key));
    }
    return d;
  }

  private static String mongoUri(Settings s) {
    String v = s.string("mongo.connection-string");
    if (!v.startsWith("mongodb://") && !v.startsWith("mongodb+srv://")) {
      throw ConfigException.bad(
          "mongo.connection-string", "a mongodb:// or mongodb+srv:// URI", "<masked>");
    }
    return v;
  }

  /** A copy pointing the clients at other Kafka and MongoDB addresses. */
  public AppConfig withEndpoints(String bootstrapServers, String mongoUri) {
    return from(
        settings.with(
            Map.of(
                "kafka.bootstrap.servers", bootstrapServers, "mongo.connection-string", mongoUri)));
  }
}
