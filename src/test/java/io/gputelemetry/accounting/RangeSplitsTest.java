package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageCalculator.Report;
import io.gputelemetry.accounting.UsageCalculator.Totals;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.support.TestMongo;
import io.gputelemetry.support.Tries;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDateTime;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Any range on the allocation grid bills the sum of its parts: the usage service over the real
 * store (MongoDB wire protocol), a range against its pieces split at grid boundaries. Samples may
 * allow gaps far longer than the margin the service reads beyond a range (3 s here), so a piece's
 * first and last samples depend on neighbours read apart.
 */
class RangeSplitsTest {
  private static final long F = 1_800_000_000_000L; // on the grid
  private static final long A = 30_000; // allocation interval
  private static final long LOOKBACK = 3_000;
  private static final String A100 = "A100-SXM-80GB";
  // GA, GB, GC on every node; A100-SXM-80GB: 25.2 $/h on-demand, 12.6 $/h committed on res-*.
  private static final PriceBook PRICES =
      new PriceBook(
          List.of(
              onDemand(
                  "GA",
                  new PriceBook.Entry(F - 86_400_000L, Long.MAX_VALUE, 3.6),
                  new PriceBook.Entry(F + 95_000, Long.MAX_VALUE, 7.2)),
              onDemand("GB", new PriceBook.Entry(F + 40_000, Long.MAX_VALUE, 36)),
              onDemand("GC", new PriceBook.Entry(F - 86_400_000L, Long.MAX_VALUE, 3.6)),
              onDemand(A100, new PriceBook.Entry(F - 86_400_000L, Long.MAX_VALUE, 25.2)),
              new PriceBook.Line(
                  A100,
                  PriceBook.Kind.COMMITTED,
                  List.of("res-*"),
                  new PriceBook.Commitment("ri-1", null, "Usage"),
                  List.of(new PriceBook.Entry(F - 86_400_000L, Long.MAX_VALUE, 12.6)))),
          Map.of());

  private static PriceBook.Line onDemand(String gpuModel, PriceBook.Entry... entries) {
    return new PriceBook.Line(
        gpuModel, PriceBook.Kind.ON_DEMAND, List.of("*"), null, List.of(entries));
  }

  private static TestMongo mongo;
  private static MongoClient client;
  private static Vertx vertx;
  private static MongoStore store;
  private static UsageService service;

  @BeforeAll
  static void start() {
    mongo = new TestMongo();
    client = MongoClients.create(mongo.uri());
    vertx = Vertx.vertx();
    store =
        new MongoStore(
            vertx,
            new AppConfig.Mongo(mongo.uri(), "splits", Duration.ofDays(7), Duration.ofSeconds(10)));
    service = new UsageService(vertx, store, PRICES, GpuProfiles.load(), LOOKBACK, LOOKBACK, A);
  }

  @AfterAll
  static void stop() throws Exception {
    store.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    mongo.close();
  }

  @BeforeEach
  void empty() {
    samples().drop();
    tokens().drop();
    inventory().drop();
  }

  private static MongoCollection<Document> inventory() {
    return client.getDatabase("splits").getCollection("gpus");
  }

  /** The inventory as the processor folds it: each GPU's oldest and newest sample time. */
  private static void foldInventory(List<Document> docs) {
    Map<String, long[]> seen = new java.util.TreeMap<>();
    for (Document d : docs) {
      long ts = d.get("ts", BsonDateTime.class).getValue();
      seen.merge(
          d.getString("gpu_uuid"),
          new long[] {ts, ts},
          (a, b) -> new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])});
    }
    seen.forEach(
        (gpu, span) ->
            inventory()
                .insertOne(
                    new Document("_id", gpu)
                        .append("first_seen", new BsonDateTime(span[0]))
                        .append("last_seen", new BsonDateTime(span[1]))));
  }

  private static MongoCollection<Document> samples() {
    return client.getDatabase("splits").getCollection("gpu_metrics");
  }

  private static MongoCollection<Document> tokens() {
    return client.getDatabase("splits").getCollection("token_usage");
  }

  private static Document sample(
      String gpu, long ts, String gpuModel, String model, Long counter, double power, Double gap) {
    Document d =
        new Document("gpu_uuid", gpu)
            .append("ts", new BsonDateTime(ts))
            .append("gpu_model", gpuModel)
            .append("power_w", power);
    if (model != null) {
      d.append("model", model);
    }
    if (counter != null) {
      d.append("energy_mj", counter);
    }
    if (gap != null) {
      d.append("max_gap_s", gap);
    }
    return d;
  }

  private static Report usage(long from, long to, GroupBy g) throws Exception {
    return service
        .usage(from, to, A, g, Integer.MAX_VALUE, null)
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  /**
   * The audit's case: a DCGM-like GPU scraped every 30 s (max_gap_s 90) off the grid, at F-50,
   * F-20, F+10, ..., F+130, 3.60 $/h (0.001 $/s), 200 W, serving m1 for tenant A; the service reads
   * 3 s beyond a range. [F, F+60) is covered by F+10 (back to F-20: [F, F+10)), F+40 and F+70 (back
   * to F+40: [F+40, F+60)): 60 s, 0.06 $, 12 000 J. Before the neighbours were read, F+10 was taken
   * for the GPU's first sample (covering nothing) and F+70 was not read: 30 s.
   */
  @Test
  void aSparseGpuIsBilledItsWholeTimeInEachHalfAndTheHalvesMakeTheWhole() throws Exception {
    for (long t = -50; t <= 130; t += 30) {
      samples().insertOne(sample("g1", F + t * 1000, "GC", "m1", null, 200, 90.0));
    }
    tokens()
        .insertOne(
            new Document("ts", new BsonDateTime(F + 5_000))
                .append("model", "m1")
                .append("tenant", "A")
                .append("input_tokens", 10L)
                .append("output_tokens", 10L));
    Report first = usage(F, F + 60_000, GroupBy.TENANT);
    Report second = usage(F + 60_000, F + 120_000, GroupBy.TENANT);
    Report whole = usage(F, F + 120_000, GroupBy.TENANT);
    assertEquals(60, first.fleet().gpuSeconds(), 1e-9, "first half: 60 s");
    assertEquals(0.06, first.fleet().costUsd(), 1e-12, "first half cost");
    assertEquals(12_000, first.fleet().energyJ(), 1e-9, "first half energy");
    assertEquals(60, second.fleet().gpuSeconds(), 1e-9, "second half: 60 s");
    assertEquals(120, whole.fleet().gpuSeconds(), 1e-9, "whole: 120 s");
    assertEquals(0.12, whole.fleet().costUsd(), 1e-12, "whole cost");
    assertEquals(0.03, first.groups().get("A").total().costUsd(), 1e-12, "A: slot [F, F+30)");
  }

  /**
   * A MIG GPU on a reserved node, through the store: the parent P (A100-SXM-80GB on res-1, 700 W,
   * no model) and its 3g.40gb instance serving m1 sampled every 2 s from F-2 to F+120. The
   * commitment applies (12.6 $/h: 0.0035 $/s, list 0.007 $/s); m1 takes 3/7: over [F, F+120) 3/7 x
   * 120 x 0.0035 = 0.18 $ effective, 0.36 $ list, 0 billed; idle keeps 4/7 (0.24 $); each half is
   * half of it.
   */
  @Test
  void aMigSliceOnAReservedNodeIsPricedThroughTheStoreAndSplitsSumToTheWhole() throws Exception {
    List<Document> docs = new ArrayList<>();
    for (long t = -2; t <= 120; t += 2) {
      docs.add(sample("P", F + t * 1000, A100, null, null, 700, null).append("node", "res-1"));
      docs.add(
          sample("P:gi1", F + t * 1000, A100, "m1", null, 0, null)
              .append("node", "res-1")
              .append("mig_parent_uuid", "P")
              .append("mig_profile", "3g.40gb")
              .append("mig_instance_id", 1));
    }
    samples().insertMany(docs);
    foldInventory(docs);
    for (long t = 5; t < 120; t += 30) { // a request in every allocation slot
      tokens()
          .insertOne(
              new Document("ts", new BsonDateTime(F + t * 1000))
                  .append("model", "m1")
                  .append("tenant", "A")
                  .append("input_tokens", 10L)
                  .append("output_tokens", 10L));
    }
    Report whole = usage(F, F + 120_000, GroupBy.MODEL);
    Totals m1 = whole.groups().get("m1").total();
    assertEquals(0.18, m1.costUsd(), 1e-12, "m1 effective");
    assertEquals(0.36, m1.listCostUsd(), 1e-12, "m1 list");
    assertEquals(0.36, m1.contractedCostUsd(), 1e-12, "m1 contracted");
    assertEquals(0, m1.billedCostUsd(), 1e-12, "m1 billed: the commitment is billed apart");
    assertEquals(0.24, whole.idle().total().costUsd(), 1e-12, "idle: the parent's 4/7");
    assertEquals(0.42, whole.fleet().costUsd(), 1e-12, "fleet: 120 s x 0.0035");
    for (long from : new long[] {F, F + 60_000}) {
      Report half = usage(from, from + 60_000, GroupBy.MODEL);
      assertEquals(0.09, half.groups().get("m1").total().costUsd(), 1e-12, "m1 half " + from);
      assertEquals(0.18, half.groups().get("m1").total().listCostUsd(), 1e-12, "m1 list half");
      assertEquals(0.12, half.idle().total().costUsd(), 1e-12, "idle half " + from);
    }
  }

  /**
   * A GPU's first sample ever covers nothing, in any range: the neighbour read finds no earlier
   * sample. One sample alone at F+10 bills nothing; with a sample at F+20 (gap 10 s, allowed 90 s)
   * it bills [F+10, F+20).
   */
  @Test
  void theFirstSampleEverCoversNothingEvenWithALongAllowedGap() throws Exception {
    samples().insertOne(sample("g1", F + 10_000, "GC", "m1", null, 200, 90.0));
    assertEquals(0, usage(F, F + 60_000, GroupBy.MODEL).fleet().gpuSeconds(), 1e-9);
    samples().insertOne(sample("g1", F + 20_000, "GC", "m1", null, 200, 90.0));
    assertEquals(10, usage(F, F + 60_000, GroupBy.MODEL).fleet().gpuSeconds(), 1e-9);
    assertEquals(0, usage(F, F + 60_000, GroupBy.MODEL).fleet().sampleGaps());
  }

  /**
   * Random fleets (GPUs priced, repriced inside the range, priced from inside the range, unpriced;
   * counters with resets; samples 1 to 40 s apart with pauses beyond their gap, each with its own
   * max_gap_s or none), random tokens, and a random range of 2 to 8 grid intervals split at random
   * grid boundaries: the pieces' figures sum to the range's, to far below a cent and a joule.
   */
  @Test
  void randomSplitsOfARangeOnTheGridSumToTheWhole() throws Exception {
    Random r = new Random(11);
    for (int i = 0; i < Tries.of(30); i++) {
      empty();
      int intervals = 2 + r.nextInt(7);
      long to = F + intervals * A;
      fleet(r, to);
      Set<Long> cuts = new TreeSet<>();
      int n = 1 + r.nextInt(intervals - 1);
      for (int k = 0; k < n; k++) {
        cuts.add(F + (1 + r.nextInt(intervals - 1)) * A);
      }
      List<Long> bounds = new ArrayList<>(List.of(F));
      bounds.addAll(cuts);
      bounds.add(to);
      // Each grouping in turn (a third of the queries each, for the run time).
      for (GroupBy g : List.of(GroupBy.values()[i % GroupBy.values().length])) {
        Report whole = usage(F, to, g);
        List<Report> parts = new ArrayList<>();
        for (int k = 0; k + 1 < bounds.size(); k++) {
          parts.add(usage(bounds.get(k), bounds.get(k + 1), g));
        }
        String what = "try " + i + " " + g + " cuts " + bounds;
        sums(whole.fleet(), parts.stream().map(Report::fleet).toList(), what + " fleet");
        sums(whole.idle().total(), parts.stream().map(p -> p.idle().total()).toList(), what);
        Set<String> keys = new HashSet<>(whole.groups().keySet());
        parts.forEach(p -> keys.addAll(p.groups().keySet()));
        for (String key : keys) {
          sums(
              line(whole, key),
              parts.stream().map(p -> line(p, key)).toList(),
              what + " group " + key);
        }
      }
    }
  }

  private static Totals line(Report r, String key) {
    UsageCalculator.Line l = r.groups().get(key);
    return l == null ? ZERO : l.total();
  }

  private static final Totals ZERO;

  static {
    UsageCalculator c = new UsageCalculator(F, F + 1, 0, A, LOOKBACK, PRICES, null);
    ZERO = c.report(GroupBy.MODEL).idle().total();
  }

  private static void sums(Totals whole, List<Totals> parts, String what) {
    close(whole.costUsd(), parts.stream().mapToDouble(Totals::costUsd).sum(), what + " cost");
    close(whole.energyJ(), parts.stream().mapToDouble(Totals::energyJ).sum(), what + " energy");
    close(
        whole.activeEnergyJ(),
        parts.stream().mapToDouble(Totals::activeEnergyJ).sum(),
        what + " active energy");
    close(
        whole.gpuSeconds(), parts.stream().mapToDouble(Totals::gpuSeconds).sum(), what + " GPU s");
    close(
        whole.unpricedGpuSeconds(),
        parts.stream().mapToDouble(Totals::unpricedGpuSeconds).sum(),
        what + " unpriced GPU s");
    close(
        whole.uncoveredGpuSeconds(),
        parts.stream().mapToDouble(Totals::uncoveredGpuSeconds).sum(),
        what + " uncovered GPU s");
    assertEquals(
        whole.sampleGaps(), parts.stream().mapToLong(Totals::sampleGaps).sum(), what + " gaps");
    close(whole.tokens(), parts.stream().mapToDouble(Totals::tokens).sum(), what + " tokens");
    close(
        whole.pricedTokens(),
        parts.stream().mapToDouble(Totals::pricedTokens).sum(),
        what + " priced tokens");
    close(
        whole.unmeteredTokens(),
        parts.stream().mapToDouble(Totals::unmeteredTokens).sum(),
        what + " unmetered tokens");
    close(whole.requests(), parts.stream().mapToDouble(Totals::requests).sum(), what + " requests");
  }

  private static void close(double whole, double sum, String what) {
    assertEquals(whole, sum, 1e-9 * Math.max(1, Math.abs(whole)), what);
  }

  /** 1 to 4 GPUs and their samples from before F to after {@code to}, and token events. */
  private static void fleet(Random r, long to) {
    String[] gpuModels = {"GA", "GB", "GX", "H100-SXM-80GB"};
    String[] models = {"m1", "m2", null};
    Double[] gaps = {null, 3.0, 10.0, 30.0, 90.0};
    List<Document> docs = new ArrayList<>();
    int gpus = 1 + r.nextInt(4);
    for (int g = 0; g < gpus; g++) {
      String gpuModel = gpuModels[r.nextInt(gpuModels.length)];
      String model = models[r.nextInt(models.length)];
      boolean counter = r.nextBoolean();
      long energy = r.nextInt(1_000_000);
      long t = F - r.nextInt(200_000);
      while (t < to + 100_000) {
        double power = 50 + r.nextInt(600);
        energy = r.nextInt(30) == 0 ? r.nextInt(1000) : energy + r.nextInt(2_000_000);
        docs.add(
            sample(
                "g" + g,
                t,
                gpuModel,
                model,
                counter ? energy : null,
                power,
                gaps[r.nextInt(gaps.length)]));
        t += r.nextInt(15) == 0 ? 60_000 + r.nextInt(120_000) : 1_000 + r.nextInt(40_000);
      }
    }
    samples().insertMany(docs);
    foldInventory(docs);
    List<Document> events = new ArrayList<>();
    String[] tokenModels = {"m1", "m2", "m9"};
    for (int k = r.nextInt(30); k > 0; k--) {
      events.add(
          new Document("ts", new BsonDateTime(F + (long) (r.nextDouble() * (to - F))))
              .append("model", tokenModels[r.nextInt(tokenModels.length)])
              .append("tenant", "t" + r.nextInt(3))
              .append("input_tokens", (long) r.nextInt(1000))
              .append("output_tokens", (long) r.nextInt(1000)));
    }
    if (!events.isEmpty()) {
      tokens().insertMany(events);
    }
  }
}
