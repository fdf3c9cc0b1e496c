package io.gputelemetry.verify;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.discovery.Discoveries;
import io.gputelemetry.discovery.Discovery;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.kafka.KafkaClients;
import io.gputelemetry.kafka.TopicManager;
import io.gputelemetry.store.GpuRecord;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.store.Store;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * The verify command: checks a running deployment end to end and prints one PASS/FAIL line per
 * check. Runs on the main thread (a command-line tool, not an event loop), so it may block.
 */
public final class Verifier {
  private static final Duration TIMEOUT = Duration.ofSeconds(15);

  private final AppConfig config;
  private final PrintStream out;
  private int failures;

  public Verifier(AppConfig config, PrintStream out) {
    this.config = config;
    this.out = out;
  }

  /** Runs every check; 0 when all passed, 1 otherwise. */
  public int run() {
    Vertx vertx = Vertx.vertx();
    Map<String, Object> admin =
        new HashMap<>(KafkaClients.admin(config.kafka(), "gpu-telemetry-verify"));
    admin.put("request.timeout.ms", Long.toString(TIMEOUT.toMillis()));
    admin.put("default.api.timeout.ms", Long.toString(TIMEOUT.toMillis()));
    Store mongo = new MongoStore(vertx, config.mongo());
    try (Admin kafka = Admin.create(admin)) {
      boolean kafkaUp =
          check(
              "Kafka reachable at " + config.kafka().bootstrapServers(),
              () -> {
                int n =
                    kafka
                        .describeCluster()
                        .nodes()
                        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                        .size();
                return n + " broker(s)";
              });
      Map<String, TopicDescription> topics = new HashMap<>();
      if (kafkaUp) {
        check(
            "topics present " + TopicManager.topics(config.kafka()),
            () -> {
              Set<String> names =
                  kafka.listTopics().names().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
              List<String> missing =
                  TopicManager.topics(config.kafka()).stream()
                      .filter(t -> !names.contains(t))
                      .toList();
              if (!missing.isEmpty()) {
                throw new IllegalStateException("missing " + missing);
              }
              topics.putAll(
                  kafka
                      .describeTopics(TopicManager.topics(config.kafka()))
                      .allTopicNames()
                      .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
              return topics.values().stream()
                  .map(t -> t.name() + ":" + t.partitions().size() + "p")
                  .collect(Collectors.joining(" "));
            });
      }
      boolean mongoUp =
          check(
              "MongoDB reachable (database " + config.mongo().database() + ")",
              () -> {
                await(mongo.ping());
                return "ping ok";
              });
      if (mongoUp) {
        check(
            "collections and indexes present",
            () -> {
              List<String> problems = await(mongo.schemaProblems());
              if (!problems.isEmpty()) {
                throw new IllegalStateException(String.join(", ", problems));
              }
              return mongo.schemaSummary();
            });
      }
      if (kafkaUp && !topics.isEmpty()) {
        Map<TopicPartition, Long> committed = new HashMap<>();
        check(
            "consumer group '"
                + config.processor().groupId()
                + "' lag at most "
                + config.verify().maxLag(),
            () -> {
              Map<TopicPartition, OffsetAndMetadata> offsets =
                  kafka
                      .listConsumerGroupOffsets(config.processor().groupId())
                      .partitionsToOffsetAndMetadata()
                      .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
              Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
              for (String t :
                  List.of(
                      config.kafka().topics().gpuMetrics(), config.kafka().topics().tokenUsage())) {
                topics
                    .get(t)
                    .partitions()
                    .forEach(
                        p -> latest.put(new TopicPartition(t, p.partition()), OffsetSpec.latest()));
              }
              Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                  kafka.listOffsets(latest).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
              long lag = 0;
              long total = 0;
              for (TopicPartition tp : latest.keySet()) {
                OffsetAndMetadata om = offsets.get(tp);
                long c = om == null ? 0 : om.offset();
                committed.put(tp, c);
                lag += Math.max(0, ends.get(tp).offset() - c);
                total += c;
              }
              if (total == 0 && ends.values().stream().anyMatch(i -> i.offset() > 0)) {
                throw new IllegalStateException(
                    "the group has committed nothing yet (lag " + lag + ")");
              }
              if (lag > config.verify().maxLag()) {
                throw new IllegalStateException("lag " + lag + " records");
              }
              return "lag " + lag + " records over " + latest.size() + " partitions";
            });
        if (mongoUp && !committed.isEmpty()) {
          check(
              "completeness: last "
                  + config.verify().samplePerPartition()
                  + " committed records per partition are stored or dead-lettered",
              () -> completeness(mongo, committed));
        }
      }
      sources(vertx, mongoUp ? mongo : null);
    } finally {
      awaitQuietly(mongo.close());
      awaitQuietly(vertx.close());
    }
    out.println(
        failures == 0 ? "verify: all checks passed" : "verify: " + failures + " check(s) failed");
    return failures == 0 ? 0 : 1;
  }

  /**
   * Each static target, and each target the discoveries find now: it answers and parses, and (with
   * the store up) a sample of its GPUs was stored recently.
   */
  private void sources(Vertx vertx, Store mongo) {
    SourceCheck sources =
        new SourceCheck(config.sources(), config.accounting().sampleGapIntervals());
    List<AppConfig.Target> targets = new ArrayList<>(config.sources().targets());
    Discoveries discoveries = new Discoveries(vertx, config.sources(), System.getenv());
    try {
      for (Discovery d : discoveries.all()) {
        check(
            "discovery " + d.kind() + " " + d.id() + " finds targets",
            () -> {
              List<AppConfig.Target> found = await(d.refresh());
              if (found.isEmpty()) {
                throw new IllegalStateException("it finds none");
              }
              found.stream().filter(t -> !targets.contains(t)).forEach(targets::add);
              return found.size() + " target(s)";
            });
      }
    } finally {
      awaitQuietly(discoveries.close());
    }
    for (AppConfig.Target t : targets) {
      String name = "source " + t.kind() + " " + t.url();
      if (check(name + " answers and parses", () -> sources.run(t)) && mongo != null) {
        check(
            name + " last success recent",
            () -> {
              List<Long> seen = new ArrayList<>();
              for (String uuid : sources.gpus(t)) {
                GpuRecord g = await(mongo.gpu(uuid));
                seen.add(g == null ? 0L : g.seen().lastMillis());
              }
              return SourceCheck.recent(t, seen, System.currentTimeMillis());
            });
      }
    }
  }

  private String completeness(Store mongo, Map<TopicPartition, Long> committed) throws Exception {
    EventParser parser = new EventParser(config.events().maxFutureSkew(), config.events().maxAge());
    Map<String, EventType> types =
        Map.of(
            config.kafka().topics().gpuMetrics(),
            EventType.GPU_SAMPLE,
            config.kafka().topics().tokenUsage(),
            EventType.TOKEN_USAGE);
    Map<String, Object> props = new HashMap<>(KafkaClients.common(config.kafka()));
    props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    props.put("enable.auto.commit", "false");
    props.put("isolation.level", "read_committed");
    Set<String> dlqSources = readDlqSources(props);
    Map<EventType, Set<String>> wanted = new HashMap<>();
    List<String> unaccounted = new ArrayList<>();
    long sampled = 0;
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props)) {
      for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
        long end = e.getValue();
        long start = Math.max(0, end - config.verify().samplePerPartition());
        if (end <= start) {
          continue;
        }
        TopicPartition tp = e.getKey();
        c.assign(List.of(tp));
        c.seek(tp, start);
        long next = start;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (next < end && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500)).records(tp)) {
            if (r.offset() >= end) {
              break;
            }
            next = r.offset() + 1;
            sampled++;
            String source = r.topic() + "/" + r.partition() + "/" + r.offset();
            ParseResult pr =
                r.value() == null || r.value().length > config.processor().maxRecordBytes()
                    ? null
                    : parser.parse(
                        types.get(r.topic()), r.value(), Instant.ofEpochMilli(r.timestamp()), null);
            if (pr != null && pr.ok()) {
              wanted
                  .computeIfAbsent(pr.event().type(), k -> new HashSet<>())
                  .add(pr.event().storeId());
            } else if (!dlqSources.contains(source)) {
              unaccounted.add(source + " (invalid, not in the DLQ)");
            }
          }
        }
      }
    }
    for (Map.Entry<EventType, Set<String>> e : wanted.entrySet()) {
      String collection = Store.collection(e.getKey());
      await(mongo.missing(e.getKey(), e.getValue())).stream()
          .sorted()
          .limit(20)
          .forEach(id -> unaccounted.add(collection + " " + id + " not stored"));
    }
    if (!unaccounted.isEmpty()) {
      throw new IllegalStateException(
          unaccounted.size()
              + " record(s) unaccounted for, e.g. "
              + unaccounted.subList(0, Math.min(5, unaccounted.size())));
    }
    return sampled + " records checked";
  }

  /** topic/partition/offset of every record in the DLQ (from its headers). */
  private Set<String> readDlqSources(Map<String, Object> props) {
    Set<String> sources = new HashSet<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props)) {
      List<TopicPartition> tps =
          c.partitionsFor(config.kafka().topics().dlq()).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> ends = c.endOffsets(tps);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (System.nanoTime() < deadline
          && tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
          sources.add(
              header(r, "dlq.source.topic")
                  + "/"
                  + header(r, "dlq.source.partition")
                  + "/"
                  + header(r, "dlq.source.offset"));
        }
      }
    }
    return sources;
  }

  private static String header(ConsumerRecord<?, ?> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? "" : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A check: prints PASS with its detail, or FAIL with the reason. */
  interface Check {
    String run() throws Exception;
  }

  private boolean check(String name, Check c) {
    try {
      String detail = c.run();
      out.println("PASS  " + name + (detail == null ? "" : " — " + detail));
      return true;
    } catch (Exception e) {
      failures++;
      Throwable cause =
          e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
              ? e.getCause()
              : e;
      out.println(
          "FAIL  "
              + name
              + " — "
              + (cause.getMessage() == null
                  ? cause.getClass().getSimpleName()
                  : cause.getMessage()));
      return false;
    }
  }

  private static void awaitQuietly(Future<?> f) {
    try {
      await(f);
    } catch (Exception e) {
      // Closing after the report: nothing left to tell the user.
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage()
        .toCompletableFuture()
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
