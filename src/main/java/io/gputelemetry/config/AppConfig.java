package io.gputelemetry.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Typed, validated configuration of every role, built once from {@link Settings}, by section: each
 * component receives only the sections it uses.
 */
public final class AppConfig {

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

  /**
   * Limits on the HTTP port's connections: silence allowed on a connection, time to receive a
   * connection's first request header (see the web package's ConnectionGuard) and a body, and most
   * connections open at once.
   */
  public record Connections(
      Duration idleTimeout, Duration headerTimeout, Duration bodyTimeout, int maxConnections) {}

  /** The most distinct values of each input-fed label on /metrics. */
  public record MetricLabels(
      int maxGpus,
      int maxNodes,
      int maxGpuModels,
      int maxModels,
      int maxTenants,
      int maxModelTenants) {}

  public record Log(LogFormat format, String level) {}

  /** Kafka: where, how long to wait, the topics, how they are created, client passthrough. */
  public record Kafka(
      String bootstrapServers,
      Duration requestTimeout,
      Topics topics,
      TopicSpec topicSpec,
      Passthrough passthrough) {}

  /** The pipeline's topics. */
  public record Topics(String gpuMetrics, String tokenUsage, String dlq) {}

  /** How missing topics are created. */
  public record TopicSpec(int partitions, short replicationFactor, int minInsyncReplicas) {}

  /**
   * Settings passed as they are to the Kafka clients (kafka.client.*, .producer.*, .consumer.*).
   */
  public record Passthrough(
      Map<String, String> client, Map<String, String> producer, Map<String, String> consumer) {}

  public record Mongo(
      String connectionString, String database, Duration retention, Duration timeout) {
    @Override
    public String toString() {
      return "Mongo[database="
          + database
          + ", retention="
          + retention
          + ", timeout="
          + timeout
          + "]";
    }
  }

  /** The fleet simulator: which fleet, how much load, for how long. */
  public record Simulator(boolean enabled, long seed, Fleet fleet, Load load, Bounds bounds) {}

  /** The simulated fleet. */
  public record Fleet(
      int nodes,
      int gpusPerNode,
      List<String> gpuModels,
      List<String> models,
      List<String> tenants) {}

  /**
   * The simulated load; the simulator waits while more than maxInFlight events await Kafka. XID
   * errors are injected only when asked for (a rate per GPU-hour; 0: none), so that a healthy demo
   * fires no alert.
   */
  public record Load(
      double rate,
      Duration sampleInterval,
      int maxInFlight,
      double xidPerGpuHour,
      int sampleGapIntervals) {}

  /**
   * A bounded simulation: a duration and/or a count of token events (null: unbounded); once
   * everything it produced is stored the process exits, or with {@code exitWhenDone} false keeps
   * serving (the API, the console, /metrics) until stopped.
   */
  public record Bounds(Duration duration, Long count, boolean exitWhenDone) {
    public boolean bounded() {
      return duration != null || count != null;
    }
  }

  public record Processor(
      String groupId,
      int maxBatchRecords,
      Duration pollTimeout,
      int maxRecordBytes,
      RetryBackoff retry,
      Duration shutdownTimeout,
      Duration errorAfter) {}

  /** Capped exponential backoff between retries. */
  public record RetryBackoff(Duration initial, Duration max) {}

  public record Standalone(int kafkaPort, int mongoPort, Duration progressInterval) {}

  public record Verify(long maxLag, int samplePerPartition) {}

  public record Events(Duration maxFutureSkew, Duration maxAge) {}

  /**
   * Monthly budgets per tenant: the file (null: no budgets) and how often the processor computes
   * each budgeted tenant's month-to-date use and forecast.
   */
  public record Budgets(Path file, Duration interval) {}

  /**
   * Who the FOCUS export names on every record (export.focus.*): FOCUS's ProviderName,
   * PublisherName, InvoiceIssuerName, BillingAccountId and BillingAccountName.
   */
  public record FocusIdentity(
      String providerName,
      String publisherName,
      String invoiceIssuerName,
      String billingAccountId,
      String billingAccountName) {}

  public record Accounting(
      Path priceBook,
      Duration window,
      Duration allowedLateness,
      int sampleGapIntervals,
      Duration maxSampleGap,
      Duration refreshInterval,
      Duration allocationInterval) {}

  /** The query API; {@code maxCells} bounds a usage answer's (groups + idle) x steps. */
  public record Api(
      Duration maxRange,
      int maxSteps,
      int maxCells,
      Duration gpuStaleAfter,
      double gpuIdleBelowPct) {}

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

  /**
   * The OTLP/HTTP receiver: on or off, the largest body (as sent and once inflated), and the
   * attributes that name a token event's tenant, in order of precedence.
   */
  public record Otlp(boolean enabled, int maxBodyBytes, List<String> tenantAttributes) {}

  /**
   * Access: the key file (null: none), the scopes a caller without a key gets when keys are
   * configured, and whether /metrics carries per-tenant labels.
   */
  public record Auth(Path keysFile, List<String> anonymousScopes, boolean tenantLabels) {}

  /** One scrape target: its kind, URL, interval, timeout and static labels. */
  public record Target(
      String kind, String url, Duration interval, Duration timeout, Map<String, String> labels) {}

  /** The real sources the producer scrapes: static targets and how more are discovered. */
  public record Sources(
      List<Target> targets,
      Map<String, String> gpuModels,
      List<String> modelMap,
      int maxBodyBytes,
      int maxLineChars,
      Duration warnEvery,
      Duration latencyWindow,
      NvidiaSmi nvidiaSmi,
      Discovery discovery) {}

  /**
   * The nvidia-smi source (null when off): the command, its loop interval, extra arguments, the
   * node its samples name (null: this host's name), the LLM its GPUs serve (null: none), and how
   * long it waits before restarting a child that died (doubling up to the maximum).
   */
  public record NvidiaSmi(
      String path,
      Duration interval,
      List<String> extraArgs,
      String node,
      String model,
      Duration restartBackoff,
      Duration maxRestartBackoff) {}

  /** Where a token event served by a LiteLLM deployment ran: its node and (optionally) GPU. */
  public record Deployment(String node, String gpuUuid) {}

  /**
   * LiteLLM callback payloads: the ordered payload fields a tenant is read from, the tenant of a
   * payload that has none of them (null: rejected), the zone of naive date-times, and api_base →
   * deployment.
   */
  public record LiteLlm(
      boolean enabled,
      List<String> tenantFrom,
      String defaultTenant,
      java.time.ZoneId naiveTimezone,
      Map<String, Deployment> deployments) {
    /** The deployment of an api_base as LiteLLM logs it (trailing slashes ignored), or null. */
    public Deployment deployment(String apiBase) {
      return deployments.get(PushSettings.trimSlash(apiBase));
    }
  }

  /**
   * What every discovered target of one discovery gets: the interval, timeout and static labels a
   * static target would carry after its URL.
   */
  public record Template(Duration interval, Duration timeout, Map<String, String> labels) {}

  /** Which DNS records name targets: A and AAAA (at a configured port), or SRV (with theirs). */
  public enum DnsType {
    A,
    SRV
  }

  /** One DNS name whose records are targets of a source kind. */
  public record DnsDiscovery(
      String kind,
      String name,
      DnsType type,
      int port,
      String scheme,
      String path,
      Template target) {
    /** The value of the discovery label of its meters. */
    public String id() {
      return "dns:" + name;
    }
  }

  /**
   * CloudEvents on the token-usage route: where in {@code data} each field is (dotted paths), and
   * which values of the token-type field count as input or output.
   */
  public record CloudEvents(
      String modelField,
      String providerField,
      String tokensField,
      String typeField,
      List<String> inputTypes,
      List<String> outputTypes,
      String inputTokensField,
      String outputTokensField) {}

  /**
   * The pods of one namespace matching a label selector whose port (a name or a number) is a target
   * of a source kind; {@code podLabels}: the pod's namespace, name and container become the
   * target's labels (for sources.model-map).
   */
  public record PodDiscovery(
      String kind,
      String namespace,
      String selector,
      String port,
      String scheme,
      String path,
      boolean podLabels,
      Template target) {
    /** The value of the discovery label of its meters. */
    public String id() {
      return "kubernetes:" + namespace;
    }
  }

  /**
   * The Kubernetes API: its URL (null: in-cluster, from KUBERNETES_SERVICE_HOST and _PORT), the
   * service-account token file (read at each request: tokens rotate) and the CA file (null: the
   * JVM's trust store).
   */
  public record KubernetesApi(String url, Path tokenFile, Path caFile) {}

  /**
   * Targets found at run time, re-read every {@code refresh}; {@code dnsServer} null: the system's.
   */
  public record Discovery(
      List<DnsDiscovery> dns,
      List<PodDiscovery> kubernetes,
      Duration refresh,
      String dnsServer,
      KubernetesApi api) {
    public boolean any() {
      return !dns.isEmpty() || !kubernetes.isEmpty();
    }
  }

  private final Settings settings;
  private final Sources sources;
  private final Duration readingMaxGap;
  private final Budgets budgets;
  private final FocusIdentity focusIdentity;
  private final Path gpuProfiles;
  private Ledger ledger;

  /**
   * The ledger (processor and standalone roles): written every {@code interval} for allocation
   * intervals closed for {@code lateness}, at most {@code maxIntervalsPerTick} per tick, by the
   * holder of a lease of {@code lease}; kept {@code retention}.
   */
  public record Ledger(
      boolean enabled,
      Duration interval,
      Duration lateness,
      int maxIntervalsPerTick,
      Duration lease,
      Duration retention) {}

  private final Role role;
  private final Http http;
  private final Connections connections;
  private final MetricLabels metricLabels;
  private final Log log;
  private final Kafka kafka;
  private final Mongo mongo;
  private final Simulator simulator;
  private final Processor processor;
  private final Standalone standalone;
  private final Verify verify;
  private final Events events;
  private final Ingest ingest;
  private final Otlp otlp;
  private final Accounting accounting;
  private final Api api;
  private final Auth auth;
  private final Path dataDir;
  private final LiteLlm liteLlm;
  private final CloudEvents cloudEvents;

  private AppConfig(Settings s) {
    this.settings = s;
    String dataDirValue = s.optional("data-dir");
    this.role = s.choice("role", Role.class);
    this.http =
        new Http(
            s.string("http.host"),
            s.integer("http.port", 0, 65535),
            s.integer("http.instances", 0, 64));
    this.connections =
        new Connections(
            positive(s, "http.idle-timeout"),
            positive(s, "http.header-timeout"),
            positive(s, "http.body-timeout"),
            s.integer("http.max-connections", 1, 1_000_000));
    this.metricLabels =
        new MetricLabels(
            s.integer("metrics.max-gpus", 1, 1_000_000),
            s.integer("metrics.max-nodes", 1, 1_000_000),
            s.integer("metrics.max-gpu-models", 1, 100_000),
            s.integer("metrics.max-models", 1, 100_000),
            s.integer("metrics.max-tenants", 1, 100_000),
            s.integer("metrics.max-model-tenants", 1, 1_000_000));
    this.log = new Log(s.choice("log.format", LogFormat.class), level(s));
    this.kafka =
        new Kafka(
            s.string("kafka.bootstrap.servers"),
            positive(s, "kafka.request-timeout"),
            new Topics(
                s.string("kafka.topic.gpu-metrics"),
                s.string("kafka.topic.token-usage"),
                s.string("kafka.topic.dlq")),
            new TopicSpec(
                s.integer("kafka.topic.partitions", 1, 10_000),
                (short) s.integer("kafka.topic.replication-factor", 1, 32),
                s.integer("kafka.topic.min-insync-replicas", 0, 32)),
            new Passthrough(
                s.withPrefix("kafka.client."),
                s.withPrefix("kafka.producer."),
                s.withPrefix("kafka.consumer.")));
    this.mongo =
        new Mongo(
            mongoUri(s),
            s.string("mongo.database"),
            positive(s, "mongo.retention"),
            positive(s, "mongo.timeout"));
    Long seed = s.optionalLong("simulator.seed", Long.MIN_VALUE);
    this.simulator =
        new Simulator(
            s.bool("simulator.enabled"),
            seed == null ? 42 : seed,
            new Fleet(
                s.integer("simulator.nodes", 1, 10_000),
                s.integer("simulator.gpus-per-node", 1, 64),
                s.list("simulator.gpu-models"),
                s.list("simulator.models"),
                s.list("simulator.tenants")),
            new Load(
                s.number("simulator.rate", 0, 1_000_000),
                positive(s, "simulator.sample-interval"),
                s.integer("producer.max-in-flight", 1, 10_000_000),
                s.number("simulator.xid-per-gpu-hour", 0, 3600),
                s.integer("accounting.sample-gap-intervals", 1, 1000)),
            new Bounds(
                s.optionalDuration("simulator.duration"),
                s.optionalLong("simulator.count", 0),
                s.bool("simulator.exit-when-done")));
    this.processor =
        new Processor(
            s.string("processor.group-id"),
            s.integer("processor.max-batch-records", 1, 100_000),
            positive(s, "processor.poll-timeout"),
            s.integer("processor.max-record-bytes", 1024, 64 * 1024 * 1024),
            new RetryBackoff(
                positive(s, "processor.retry.initial-backoff"),
                positive(s, "processor.retry.max-backoff")),
            positive(s, "processor.shutdown-timeout"),
            positive(s, "processor.error-after"));
    if (processor.retry().max().compareTo(processor.retry().initial()) < 0) {
      throw ConfigException.bad(
          "processor.retry.max-backoff",
          "at least processor.retry.initial-backoff (" + processor.retry().initial() + ")",
          s.raw("processor.retry.max-backoff"));
    }
    Duration progress = s.optionalDuration("standalone.progress-interval");
    this.standalone =
        new Standalone(
            s.integer("standalone.kafka-port", 0, 65535),
            s.integer("standalone.mongo-port", 0, 65535),
            progress == null ? Duration.ZERO : progress);
    Long maxLag = s.optionalLong("verify.max-lag", 0);
    this.verify =
        new Verify(
            maxLag == null ? Long.MAX_VALUE : maxLag,
            s.integer("verify.sample-per-partition", 1, 1_000_000));
    this.events = new Events(positive(s, "events.max-future-skew"), positive(s, "events.max-age"));
    this.ingest =
        new Ingest(
            s.bool("ingest.enabled"),
            s.integer("ingest.max-body-bytes", 1024, 512 * 1024 * 1024),
            s.integer("ingest.max-events", 1, 1_000_000),
            apiKeys(s),
            s.integer("ingest.max-pending", 1, 100_000_000),
            positive(s, "ingest.retry-after"));
    this.otlp =
        new Otlp(
            s.bool("otlp.enabled"),
            s.integer("otlp.max-body-bytes", 1024, 512 * 1024 * 1024),
            s.list("otlp.tenant-attributes"));
    String priceBook = s.optional("pricing.price-book");
    String profilesFile = s.optional("accounting.gpu-profiles");
    this.gpuProfiles = profilesFile == null ? null : Path.of(profilesFile);
    this.accounting =
        new Accounting(
            priceBook == null ? null : Path.of(priceBook),
            positive(s, "accounting.window"),
            s.duration("accounting.allowed-lateness"),
            s.integer("accounting.sample-gap-intervals", 1, 1000),
            positive(s, "accounting.max-sample-gap"),
            positive(s, "accounting.refresh-interval"),
            positive(s, "accounting.allocation-interval"));
    this.api =
        new Api(
            positive(s, "api.max-range"),
            s.integer("api.max-steps", 1, 100_000),
            s.integer("api.max-cells", 1, 10_000_000),
            positive(s, "api.gpu-stale-after"),
            s.number("api.gpu-idle-below-pct", 0, 100));
    String keysFile = s.optional("auth.keys-file");
    this.auth =
        new Auth(
            keysFile == null ? null : Path.of(keysFile),
            s.optional("auth.anonymous-scopes") == null
                ? List.of()
                : s.list("auth.anonymous-scopes"),
            s.bool("metrics.tenant-labels"));
    this.dataDir = dataDirValue == null ? null : Path.of(dataDirValue);
    this.sources =
        new Sources(
            concat(SourceSettings.targets(s, "dcgm"), SourceSettings.targets(s, "vllm")),
            SourceSettings.pairs(s, "sources.dcgm.gpu-models"),
            s.optional("sources.model-map") == null ? List.of() : s.list("sources.model-map"),
            s.integer("sources.max-body-bytes", 1024, 1024 * 1024 * 1024),
            s.integer("sources.max-line-chars", 256, 16 * 1024 * 1024),
            positive(s, "sources.warn-every"),
            positive(s, "sources.vllm.latency-window"),
            PushSettings.nvidiaSmi(s),
            DiscoverySettings.discovery(s, List.of("dcgm", "vllm")));
    this.readingMaxGap = positive(s, "accounting.reading-max-gap");
    String budgetsFile = s.optional("budgets.file");
    this.budgets =
        new Budgets(
            budgetsFile == null ? null : Path.of(budgetsFile), positive(s, "budgets.interval"));
    this.focusIdentity =
        new FocusIdentity(
            focusText(s, "export.focus.provider-name"),
            focusText(s, "export.focus.publisher-name"),
            focusText(s, "export.focus.invoice-issuer-name"),
            focusText(s, "export.focus.billing-account-id"),
            focusText(s, "export.focus.billing-account-name"));
    this.ledger =
        new Ledger(
            s.bool("ledger.enabled"),
            positive(s, "ledger.interval"),
            positive(s, "ledger.lateness"),
            s.integer("ledger.max-intervals-per-tick", 1, 100_000),
            positive(s, "ledger.lease"),
            positive(s, "ledger.retention"));
    checkLedger(s);
    this.liteLlm = PushSettings.liteLlm(s);
    this.cloudEvents = PushSettings.cloudEvents(s);
  }

  public LiteLlm liteLlm() {
    return liteLlm;
  }

  public CloudEvents cloudEvents() {
    return cloudEvents;
  }

  private static List<Target> concat(List<Target> a, List<Target> b) {
    List<Target> all = new java.util.ArrayList<>(a);
    all.addAll(b);
    return List.copyOf(all);
  }

  /**
   * The longest time between two counter readings of a series (vLLM / NIM) whose difference is
   * counted: how far before a range the usage computation reads readings.
   */
  public Duration readingMaxGap() {
    return readingMaxGap;
  }

  public Ledger ledger() {
    return ledger;
  }

  /**
   * An interval's GPU time is final once the first sample after its end is stored, which may come
   * up to the longest sample gap later: the horizon must exceed it. Hours are sums of whole
   * allocation intervals: the interval must divide an hour.
   */
  private void checkLedger(Settings s) {
    if (!ledger.enabled()) {
      return;
    }
    Duration gap = longestSampleGap();
    if (ledger.lateness().compareTo(gap) <= 0) {
      // A source's configured interval (a DCGM target scraped every minute, say) must not stop the
      // processor from starting: the horizon becomes that gap plus one allocation interval.
      Duration raised = gap.plus(accounting.allocationInterval());
      ledger =
          new Ledger(
              ledger.enabled(),
              ledger.interval(),
              raised,
              ledger.maxIntervalsPerTick(),
              ledger.lease(),
              ledger.retention());
    }
    if (3_600_000L % accounting.allocationInterval().toMillis() != 0) {
      throw ConfigException.bad(
          "accounting.allocation-interval",
          "a divisor of an hour while ledger.enabled is true",
          s.raw("accounting.allocation-interval"));
    }
    if (ledger.lease().compareTo(ledger.interval()) <= 0) {
      throw ConfigException.bad(
          "ledger.lease",
          "longer than ledger.interval (" + ledger.interval() + ")",
          s.raw("ledger.lease"));
    }
  }

  /** Whether the producer has anything to scrape: static targets or a discovery. */
  public boolean scrapes() {
    return !sources.targets().isEmpty() || sources.discovery().any();
  }

  public Sources sources() {
    return sources;
  }

  /**
   * The longest gap a sample of this deployment's sources may cover: how far before a range the
   * usage computation reads (at least accounting.max-sample-gap).
   */
  public Duration longestSampleGap() {
    Duration longest = simulator.load().sampleInterval();
    List<Duration> intervals = new java.util.ArrayList<>();
    sources.targets().forEach(t -> intervals.add(t.interval()));
    sources.discovery().dns().forEach(d -> intervals.add(d.target().interval()));
    sources.discovery().kubernetes().forEach(d -> intervals.add(d.target().interval()));
    for (Duration i : intervals) {
      longest = i.compareTo(longest) > 0 ? i : longest;
    }
    if (sources.nvidiaSmi() != null && sources.nvidiaSmi().interval().compareTo(longest) > 0) {
      longest = sources.nvidiaSmi().interval();
    }
    longest = longest.multipliedBy(accounting.sampleGapIntervals());
    return longest.compareTo(accounting.maxSampleGap()) > 0 ? longest : accounting.maxSampleGap();
  }

  public Role role() {
    return role;
  }

  public Http http() {
    return http;
  }

  public Connections connections() {
    return connections;
  }

  public MetricLabels metricLabels() {
    return metricLabels;
  }

  public Log log() {
    return log;
  }

  public Kafka kafka() {
    return kafka;
  }

  public Mongo mongo() {
    return mongo;
  }

  public Simulator simulator() {
    return simulator;
  }

  public Processor processor() {
    return processor;
  }

  public Standalone standalone() {
    return standalone;
  }

  public Verify verify() {
    return verify;
  }

  public Events events() {
    return events;
  }

  public Ingest ingest() {
    return ingest;
  }

  public Otlp otlp() {
    return otlp;
  }

  /** The GPU profiles file (accounting.gpu-profiles); null: the built-in table. */
  public Path gpuProfiles() {
    return gpuProfiles;
  }

  /** Who the FOCUS export names on every record. */
  public FocusIdentity focusIdentity() {
    return focusIdentity;
  }

  /**
   * A FOCUS identity value: 1 to 256 characters, none a control character (FOCUS's string handling;
   * a name is written to every record of the CSV as it is).
   */
  private static String focusText(Settings s, String key) {
    String v = s.raw(key);
    if (v.isBlank() || v.length() > 256 || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw ConfigException.bad(key, "1 to 256 characters without control characters", v);
    }
    return v;
  }

  public Budgets budgets() {
    return budgets;
  }

  public Accounting accounting() {
    return accounting;
  }

  public Api api() {
    return api;
  }

  public Auth auth() {
    return auth;
  }

  /** The standalone role's data directory, or null (temporary). */
  public Path dataDir() {
    return dataDir;
  }

  /** The settings this configuration was built from (secrets masked by their toString). */
  public Settings settings() {
    return settings;
  }

  public static AppConfig from(Settings s) {
    return new AppConfig(s);
  }

  private static String level(Settings s) {
    String v = s.string("log.level").toLowerCase(Locale.ROOT);
    if (!List.of("trace", "debug", "info", "warn", "error").contains(v)) {
      throw ConfigException.bad("log.level", "one of trace debug info warn error", v);
    }
    return v;
  }

  private static Map<String, String> apiKeys(Settings s) {
    String v = s.optional("ingest.api-keys");
    Map<String, String> keys = new LinkedHashMap<>();
    if (v == null) {
      return keys;
    }
    for (String entry : v.split(",", -1)) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int colon = e.lastIndexOf(':');
      // KEY=TENANT (a form once documented) would be a key named "KEY=TENANT", bound to no tenant.
      // Base64 keys end in '=' padding, so only an '=' followed by more text is refused.
      if (colon < 0 && e.matches(".*=[^=]+")) {
        throw new ConfigException(
            "setting 'ingest.api-keys' (env GPUTEL_INGEST_API_KEYS): an entry is written"
                + " KEY=TENANT (tenant '"
                + e.substring(e.lastIndexOf('=') + 1)
                + "'); a key is bound to a tenant as KEY:TENANT");
      }
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

  static Duration positive(Settings s, String key) {
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
