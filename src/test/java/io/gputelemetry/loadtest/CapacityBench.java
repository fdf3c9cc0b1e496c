package io.gputelemetry.loadtest;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.event.EventType;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.store.Store;
import io.gputelemetry.support.StoreProcess;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * Bytes per GPU-day on the stored documents: a simulated fleet's raw samples and token events
 * stored as the processor stores them, the minute ledger computed from them and its hour and day
 * roll-ups written by the ledger store; then every document read back as {@link RawBsonDocument}
 * (its size is the uncompressed BSON the server keeps, before WiredTiger's block compression) and
 * each index's entries estimated from the document's values of the index keys. Prints the
 * measurements and the capacity table of docs/capacity.md. Not a test: run it by hand, {@code java
 * -cp target/test-classes:target/classes:$(cat target/bench.cp)
 * io.gputelemetry.loadtest.CapacityBench [nodes] [minutes] [requests per GPU-second]} (see
 * docs/capacity.md).
 */
public final class CapacityBench {
  private static final String DB = "capacity";
  private static final Duration SAMPLE_INTERVAL = Duration.ofSeconds(10);
  private static final int GPUS_PER_NODE = 8;
  private static final int MODELS = 10;
  private static final int TENANTS = 20;
  private static final List<String> GPU_MODELS = List.of("H100-SXM-80GB", "A100-SXM-80GB");

  /** How long raw events are kept (mongo.retention's default) and the ledger (13 months). */
  private static final int RAW_DAYS = 7;

  private static final int LEDGER_DAYS = (int) MongoStore.LEDGER_RETENTION.toDays();

  /** The record id beside each index key (WiredTiger: a 64-bit integer). */
  static final int RECORD_ID_BYTES = 8;

  private CapacityBench() {}

  /** What the documents of one collection weigh, in bytes. */
  record Weight(long docs, long docBytes, Map<String, Long> indexBytes) {
    double meanDoc() {
      return docs == 0 ? 0 : (double) docBytes / docs;
    }

    double meanIndexes() {
      return docs == 0 ? 0 : indexBytes.values().stream().mapToLong(Long::longValue).sum() / docs;
    }

    double mean() {
      return meanDoc() + meanIndexes();
    }
  }

  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int minutes = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    double perGpuSecond = args.length > 2 ? Double.parseDouble(args[2]) : 1.0;
    int gpus = nodes * GPUS_PER_NODE;
    // On the grid of every grain: a UTC midnight.
    Instant start = Instant.parse("2026-11-30T00:00:00Z");
    long from = start.toEpochMilli();
    long to = from + minutes * BenchFleet.MINUTE;
    AppConfig.Simulator sim =
        BenchFleet.simulator(
            nodes,
            GPUS_PER_NODE,
            GPU_MODELS,
            MODELS,
            TENANTS,
            gpus * perGpuSecond,
            SAMPLE_INTERVAL);
    Vertx vertx = Vertx.vertx();
    try (StoreProcess mongo = new StoreProcess()) {
      Store store =
          new MongoStore(
              vertx,
              new AppConfig.Mongo(
                  mongo.uri(), DB, Duration.ofDays(RAW_DAYS), Duration.ofSeconds(30)));
      BenchFleet.get(store.ensureSchema());
      long t0 = System.nanoTime();
      Map<EventType, Long> stored =
          BenchFleet.storeRaw(store, sim, start, Duration.ofMinutes(minutes));
      System.out.printf(
          Locale.ROOT,
          "fleet: %d GPUs (%d nodes of %d; %s by node), %d models, %d tenants; samples every %d s,"
              + " %.2f requests per GPU-second; %d min simulated from %s%n",
          gpus,
          nodes,
          GPUS_PER_NODE,
          GPU_MODELS,
          MODELS,
          TENANTS,
          SAMPLE_INTERVAL.toSeconds(),
          perGpuSecond,
          minutes,
          start);
      System.out.printf(
          Locale.ROOT, "stored %s in %.1f s%n", stored, (System.nanoTime() - t0) / 1e9);
      long maxGap = SAMPLE_INTERVAL.toMillis() * 3;
      List<LedgerRow> minuteRows = BenchFleet.minuteRows(store, from, to, maxGap);
      TreeMap<Long, List<LedgerRow>> minute = BenchFleet.byStart(minuteRows);
      BenchFleet.write(store, LedgerGrain.MINUTE, BenchFleet.MINUTE, minute);
      TreeMap<Long, List<LedgerRow>> hour = new TreeMap<>();
      for (long h = from; h < to; h += LedgerGrain.HOUR.millis()) {
        long end = h + LedgerGrain.HOUR.millis();
        hour.put(
            h,
            BenchFleet.rollUp(
                new ArrayList<>(minute.subMap(h, end).values())
                    .stream().flatMap(List::stream).toList(),
                h,
                end));
      }
      BenchFleet.write(store, LedgerGrain.HOUR, LedgerGrain.HOUR.millis(), hour);
      List<LedgerRow> hourRows = hour.values().stream().flatMap(List::stream).toList();
      long day = LedgerGrain.DAY.millis();
      BenchFleet.write(
          store, LedgerGrain.DAY, day, Map.of(from, BenchFleet.rollUp(hourRows, from, from + day)));
      BenchFleet.get(store.close());
      report(mongo.uri(), gpus, minutes, perGpuSecond, minute, hour);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static void report(
      String uri,
      int gpus,
      int minutes,
      double perGpuSecond,
      Map<Long, List<LedgerRow>> minute,
      Map<Long, List<LedgerRow>> hour) {
    Map<String, Weight> w = new LinkedHashMap<>();
    Map<String, Weight> intervals = new LinkedHashMap<>();
    try (MongoClient client = MongoClients.create(uri)) {
      MongoDatabase db = client.getDatabase(DB);
      for (String c :
          List.of(
              Store.collection(EventType.GPU_SAMPLE),
              Store.collection(EventType.TOKEN_USAGE),
              LedgerGrain.MINUTE.collection(),
              LedgerGrain.HOUR.collection(),
              LedgerGrain.DAY.collection())) {
        w.put(c, weigh(db, c, null));
      }
      for (LedgerGrain g : LedgerGrain.values()) {
        intervals.put(g.collection(), weigh(db, "ledger_intervals", g.name()));
      }
    }
    System.out.println();
    System.out.println(
        "| collection | documents | BSON bytes per document | index bytes per document (est.) |"
            + " indexes |");
    System.out.println("|---|---|---|---|---|");
    w.forEach((c, x) -> row(c, x));
    intervals.forEach((c, x) -> row("ledger_intervals (" + c + ")", x));

    Weight samples = w.get(Store.collection(EventType.GPU_SAMPLE));
    Weight tokens = w.get(Store.collection(EventType.TOKEN_USAGE));
    double minuteRows = (double) w.get(LedgerGrain.MINUTE.collection()).docs() / minutes;
    // A fleet where every key has usage in every minute writes the hour's keys each minute.
    double saturated = hour.values().stream().mapToInt(List::size).average().orElse(0);
    double hourRows = saturated;
    double dayRows = w.get(LedgerGrain.DAY.collection()).docs();
    double minuteDay =
        1440
            * (saturated * w.get(LedgerGrain.MINUTE.collection()).mean()
                + intervals.get(LedgerGrain.MINUTE.collection()).mean());
    double hourDay =
        24
            * (hourRows * w.get(LedgerGrain.HOUR.collection()).mean()
                + intervals.get(LedgerGrain.HOUR.collection()).mean());
    double dayDay =
        dayRows * w.get(LedgerGrain.DAY.collection()).mean()
            + intervals.get(LedgerGrain.DAY.collection()).mean();
    double tokensGpuDay = perGpuSecond * 86_400 * tokens.mean();
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "ledger rows per interval: minute %.1f measured (%d minutes; %.0f if every key of the hour"
            + " had usage each minute), hour %.0f, day %.0f%n",
        minuteRows,
        minute.size(),
        saturated,
        hourRows,
        dayRows);
    System.out.println();
    System.out.println("| per day | bytes (documents + index estimate) |");
    System.out.println("|---|---|");
    for (int s : new int[] {1, 10, 30}) {
      System.out.printf(
          Locale.ROOT,
          "| raw samples per GPU-day at %d s | %s |%n",
          s,
          size(86_400.0 / s * samples.mean()));
    }
    System.out.printf(
        Locale.ROOT,
        "| token events per GPU-day at %.2f requests per GPU-second | %s |%n",
        perGpuSecond,
        size(tokensGpuDay));
    System.out.printf(
        Locale.ROOT,
        "| minute ledger per day (whole fleet's keys, not per GPU) | %s |%n",
        size(minuteDay));
    System.out.printf(Locale.ROOT, "| hour roll-up per day | %s |%n", size(hourDay));
    System.out.printf(Locale.ROOT, "| day roll-up per day | %s |%n", size(dayDay));
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "| GPUs | sample interval | samples per day | token events per day | raw over %d days |"
            + " ledger per day | ledger over %d days |%n",
        RAW_DAYS,
        LEDGER_DAYS);
    System.out.println("|---|---|---|---|---|---|---|");
    double ledger = (minuteDay + hourDay + dayDay) * LEDGER_DAYS;
    for (int g : new int[] {1_000, 10_000, 100_000}) {
      for (int s : new int[] {1, 10, 30}) {
        double sampleDay = g * 86_400.0 / s * samples.mean();
        System.out.printf(
            Locale.ROOT,
            "| %,d | %d s | %s | %s | %s | %s | %s |%n",
            g,
            s,
            size(sampleDay),
            size(g * tokensGpuDay),
            size((sampleDay + g * tokensGpuDay) * RAW_DAYS),
            size(ledger / LEDGER_DAYS),
            size(ledger));
      }
    }
  }

  private static void row(String c, Weight x) {
    StringBuilder idx = new StringBuilder();
    x.indexBytes()
        .forEach(
            (n, b) ->
                idx.append(idx.length() == 0 ? "" : ", ")
                    .append(n)
                    .append(' ')
                    .append(
                        String.format(Locale.ROOT, "%.0f", (double) b / Math.max(1, x.docs()))));
    System.out.printf(
        Locale.ROOT,
        "| %s | %,d | %.0f | %.0f | %s |%n",
        c,
        x.docs(),
        x.meanDoc(),
        x.meanIndexes(),
        idx);
  }

  /** Sizes of a collection's documents (of one grain's intervals when grain is not null). */
  private static Weight weigh(MongoDatabase db, String name, String grain) {
    MongoCollection<RawBsonDocument> c = db.getCollection(name, RawBsonDocument.class);
    Map<String, BsonDocument> keys = new LinkedHashMap<>();
    for (BsonDocument i : db.getCollection(name).listIndexes(BsonDocument.class)) {
      keys.put(i.getString("name").getValue(), i.getDocument("key"));
    }
    long docs = 0;
    long bytes = 0;
    Map<String, Long> index = new LinkedHashMap<>();
    keys.keySet().forEach(k -> index.put(k, 0L));
    for (RawBsonDocument d :
        (grain == null ? c.find() : c.find(new BsonDocument("grain", new BsonString(grain))))
            .batchSize(5000)) {
      docs++;
      bytes += d.getByteBuffer().remaining();
      for (Map.Entry<String, BsonDocument> k : keys.entrySet()) {
        index.merge(k.getKey(), (long) indexEntry(d, k.getValue()), Long::sum);
      }
    }
    return new Weight(docs, bytes, index);
  }

  /**
   * One index entry, estimated without prefix compression: each key value as a type byte and its
   * value (a string's UTF-8 bytes and a terminator, 8 bytes for a date or 64-bit number, 4 for a
   * 32-bit one), and the record id.
   */
  static int indexEntry(BsonDocument doc, BsonDocument key) {
    int n = RECORD_ID_BYTES;
    for (String field : key.keySet()) {
      BsonValue v = doc.get(field);
      n += 1;
      if (v == null || v.isNull()) {
        continue;
      }
      if (v.isString()) {
        n += v.asString().getValue().getBytes(StandardCharsets.UTF_8).length + 1;
      } else if (v.isInt32()) {
        n += 4;
      } else if (v.isBoolean()) {
        n += 1;
      } else {
        n += 8;
      }
    }
    return n;
  }

  private static String size(double bytes) {
    String[] units = {"B", "KB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (bytes >= 1000 && u < units.length - 1) {
      bytes /= 1000;
      u++;
    }
    return String.format(Locale.ROOT, bytes >= 100 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  }
}
