package io.gputelemetry.loadtest;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.sun.management.ThreadMXBean;
import io.gputelemetry.accounting.GpuProfiles;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.accounting.UsageCalculator.GroupBy;
import io.gputelemetry.accounting.UsageService;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.store.LedgerBulk;
import io.gputelemetry.store.LedgerGrain;
import io.gputelemetry.store.LedgerRow;
import io.gputelemetry.store.MongoStore;
import io.gputelemetry.store.Store;
import io.gputelemetry.support.StoreProcess;
import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Long usage ranges read the ledger's roll-ups: a 100-GPU fleet's ledger generated for 31 days (an
 * hour of the simulated fleet through the pipeline's path, its minute ledger rolled up into an
 * hour, that hour's rows repeated for every hour and rolled up into days; the minute ledger of the
 * last hour, so that the ledger's watermark is at its end), then the usage of the last 1, 7 and 31
 * days through {@link UsageService#usage} reading the ledger (what the usage API answers), grouped
 * by model, tenant and GPU model at a step of a day: the median time of several runs after warm-up,
 * the bytes the query allocated (every thread of this JVM: the event loop, the workers and the
 * driver's; the store stand-in runs in its own) and the heap retained after GC holding the report.
 * Not a test: run it by hand, {@code java -cp target/test-classes:target/classes:$(cat
 * target/bench.cp) io.gputelemetry.loadtest.LongRangeBench [days] [runs] [only this range, days]
 * [hour: also steps of an hour]} (see docs/performance.md).
 */
public final class LongRangeBench {
  private static final String DB = "longrange";
  private static final long HOUR = LedgerGrain.HOUR.millis();
  private static final long DAY = LedgerGrain.DAY.millis();
  private static final long MINUTE = 60_000L;
  private static final long GAP = 90_000L;
  private static final int MAX_CELLS = 20_000;

  private LongRangeBench() {}

  /** One way of answering a usage query. */
  interface Query {
    UsageCalculator.Report run(long from, long to, long step, GroupBy groupBy) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int days = args.length > 0 ? Integer.parseInt(args[0]) : 31;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    int only = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    boolean hours = args.length > 3 && args[3].equals("hour");
    // The ledger ends at a UTC midnight; the simulated hour lies before it starts.
    long end = Instant.parse("2026-12-01T00:00:00Z").toEpochMilli();
    long start = end - days * DAY;
    Vertx vertx = Vertx.vertx();
    try (StoreProcess mongo = new StoreProcess(System.getProperty("bench.store.heap", "8g"))) {
      Store store =
          new MongoStore(
              vertx,
              new AppConfig.Mongo(mongo.uri(), DB, Duration.ofDays(7), Duration.ofSeconds(60)));
      BenchFleet.get(store.ensureSchema());
      long t0 = System.nanoTime();
      long simulated = start - DAY;
      List<LedgerRow> minutes = simulatedMinutes(store, simulated);
      List<LedgerRow> template = BenchFleet.rollUp(minutes, simulated, simulated + HOUR);
      try (MongoClient client = MongoClients.create(mongo.uri())) {
        generate(client.getDatabase(DB), template, start, end);
        watermark(client.getDatabase(DB), minutes, end);
      }
      System.out.printf(
          Locale.ROOT,
          "ledger of %d days generated in %.0f s: %d rows per hour, %d hour rows, %d day rows%n",
          days,
          (System.nanoTime() - t0) / 1e9,
          template.size(),
          template.size() * days * 24L,
          BenchFleet.rollUp(template, 0, DAY).size() * (long) days);
      UsageService usage =
          new UsageService(vertx, store, PriceBook.load(null), GpuProfiles.load(), GAP, GAP, MINUTE)
              .readingLedger();
      Query ledger = (from, to, step, g) -> fromLedger(usage, from, to, step, g);
      System.out.println();
      System.out.printf(
          Locale.ROOT,
          "load average %.1f at the start%n",
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      System.out.println(
          "| days | step | group by | ledger rows read | median ms (min–max) | allocated MB"
              + " (median) | report retained MB |");
      System.out.println("|---|---|---|---|---|---|---|");
      for (int d : only > 0 ? new int[] {only} : new int[] {1, 7, 31}) {
        if (d > days) {
          continue;
        }
        for (long step : hours ? new long[] {DAY, HOUR} : new long[] {DAY}) {
          for (GroupBy g : new GroupBy[] {GroupBy.MODEL, GroupBy.TENANT, GroupBy.GPU_MODEL}) {
            measure(ledger, end - d * DAY, end, step, g, runs, d);
          }
        }
      }
      System.out.printf(
          Locale.ROOT,
          "load average %.1f at the end%n",
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      BenchFleet.get(store.close());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  /**
   * One hour of a 100-GPU fleet (25 nodes of 4 GPUs; H100, A100 and L40S by node), 10 models, 20
   * tenants, 30 requests per second, samples every 30 s, stored as the processor stores them: its
   * minute ledger, whose roll-up into the hour are the rows of every generated hour.
   */
  static List<LedgerRow> simulatedMinutes(Store store, long from) throws Exception {
    AppConfig.Simulator sim =
        BenchFleet.simulator(
            25,
            4,
            List.of("H100-SXM-80GB", "A100-SXM-80GB", "L40S-48GB"),
            10,
            20,
            30,
            Duration.ofSeconds(30));
    BenchFleet.storeRaw(store, sim, Instant.ofEpochMilli(from), Duration.ofMillis(HOUR));
    return BenchFleet.minuteRows(store, from, from + HOUR, GAP);
  }

  /** The template hour's rows in every hour of [start, end), and each day's roll-up of them. */
  static void generate(MongoDatabase db, List<LedgerRow> template, long start, long end) {
    for (long day = start; day < end; day += DAY) {
      Map<Long, List<LedgerRow>> hours = new TreeMap<>();
      List<LedgerRow> all = new ArrayList<>();
      for (long h = day; h < day + DAY; h += HOUR) {
        List<LedgerRow> rows = shifted(template, h, h + HOUR);
        hours.put(h, rows);
        all.addAll(rows);
      }
      LedgerBulk.insert(db, LedgerGrain.HOUR, HOUR, hours, 1);
      LedgerBulk.insert(
          db, LedgerGrain.DAY, DAY, Map.of(day, BenchFleet.rollUp(all, day, day + DAY)), 1);
    }
  }

  /**
   * The simulated minute ledger moved to end at {@code end}: the ledger's watermark (the end of its
   * latest minute interval), which a usage query reads the ledger up to.
   */
  static void watermark(MongoDatabase db, List<LedgerRow> minutes, long end) {
    long last = minutes.stream().mapToLong(LedgerRow::end).max().orElseThrow();
    List<LedgerRow> moved = new ArrayList<>();
    minutes.forEach(
        r -> moved.add(r.over(r.start() + end - last, r.end() + end - last, r.amounts())));
    LedgerBulk.insert(db, LedgerGrain.MINUTE, MINUTE, BenchFleet.byStart(moved), 1);
  }

  static List<LedgerRow> shifted(List<LedgerRow> rows, long start, long end) {
    List<LedgerRow> out = new ArrayList<>(rows.size());
    rows.forEach(r -> out.add(r.over(start, end, r.amounts())));
    return out;
  }

  /**
   * The usage API's query: {@link UsageService#usage} reading the ledger, which must have answered
   * the whole range from it (the report's source).
   */
  static UsageCalculator.Report fromLedger(
      UsageService usage, long from, long to, long step, GroupBy groupBy) throws Exception {
    UsageCalculator.Report r =
        BenchFleet.get(usage.usage(from, to, step, groupBy, MAX_CELLS, null));
    if (r.source().ledgerUntil() != to) {
      throw new IllegalStateException("not all from the ledger: " + r.source());
    }
    rowsRead = r.source().ledgerRows();
    return r;
  }

  private static volatile long rowsRead;

  private static void measure(Query q, long from, long to, long step, GroupBy g, int runs, int days)
      throws Exception {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 3; i++) {
      q.run(from, to, step, g); // warm-up
    }
    double[] ms = new double[runs];
    double[] mb = new double[runs];
    for (int i = 0; i < runs; i++) {
      long a0 = allocated(threads);
      long t0 = System.nanoTime();
      q.run(from, to, step, g);
      ms[i] = (System.nanoTime() - t0) / 1e6;
      mb[i] = (allocated(threads) - a0) / 1e6;
    }
    double retained = retainedMb(q, from, to, step, g);
    Arrays.sort(ms);
    Arrays.sort(mb);
    System.out.printf(
        Locale.ROOT,
        "| %d | %s | %s | %,d | %.0f (%.0f–%.0f) | %.1f | %.2f |%n",
        days,
        step == DAY ? "1 d" : "1 h",
        g.name().toLowerCase(Locale.ROOT),
        rowsRead,
        ms[runs / 2],
        ms[0],
        ms[runs - 1],
        mb[runs / 2],
        retained);
  }

  /** Bytes allocated so far by the live threads of this JVM. */
  private static long allocated(ThreadMXBean threads) {
    long[] ids = threads.getAllThreadIds();
    long sum = 0;
    for (long b : threads.getThreadAllocatedBytes(ids)) {
      sum += Math.max(0, b);
    }
    return sum;
  }

  /** Used heap after a GC with the report held, less before it was computed. */
  private static double retainedMb(Query q, long from, long to, long step, GroupBy g)
      throws Exception {
    long before = usedAfterGc();
    UsageCalculator.Report r = q.run(from, to, step, g);
    long after = usedAfterGc();
    if (r.groups().isEmpty()) {
      throw new IllegalStateException("empty report");
    }
    return (after - before) / 1e6;
  }

  private static long usedAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50); // let the collector settle: there is no event to await
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
