package io.gputelemetry.store;

import io.gputelemetry.event.EventType;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.function.Consumer;

/**
 * Everything the pipeline keeps in MongoDB, by what its callers need: the processor's writes, the
 * query API's and accounting's reads, and verify's checks. Futures complete on the caller's Vert.x
 * context; no MongoDB type crosses this interface.
 */
public interface Store {
  /** The collection of the GPU inventory (one document per GPU: first/last seen, newest state). */
  String INVENTORY = "gpus";

  /** The collection of one event type's raw events. */
  static String collection(EventType type) {
    return type == EventType.GPU_SAMPLE ? "gpu_metrics" : "token_usage";
  }

  /** Collections and indexes (TTL from the retention setting): idempotent, run at start-up. */
  Future<Void> ensureSchema();

  /** A round trip to the server: what readiness means for the store. */
  Future<Void> ping();

  /**
   * Stores raw events of one type, unordered. A duplicate key counts as already stored; a document
   * the store refuses for a data reason is reported by index; anything else fails the future (an
   * outage: the caller retries the whole write, which is idempotent).
   */
  Future<WriteOutcome> insert(EventType type, List<StoredEvent> events);

  /**
   * Folds samples into the inventory: first/last seen only move outward, and the last state is
   * replaced only by a strictly newer sample ({@link InventoryUpdate#newer}), so a replay or a late
   * sample never rolls it back.
   */
  Future<Void> foldInventory(List<InventoryUpdate> updates);

  /** The inventory, by GPU id; {@code node} and {@code model} filter when not null. */
  Future<List<GpuRecord>> gpus(String node, String model);

  /** One GPU of the inventory, or null. */
  Future<GpuRecord> gpu(String gpuUuid);

  /**
   * A GPU's samples since an instant, oldest first, at most {@code limit} (the newest ones), each
   * with {@code ts} (an Instant) and the requested fields that it has.
   */
  Future<List<Map<String, Object>>> samples(
      String gpuUuid, Instant since, int limit, List<String> fields);

  /**
   * Streams the raw events accounting needs: samples with ts in [from - margin, to + margin), token
   * events of requests (not counter readings) with ts in [from, to). Each sink is called by one
   * thread at a time, not necessarily the caller's; the two sinks may run at the same time.
   */
  Future<Void> usage(
      long fromMillis,
      long toMillis,
      long sampleMarginMillis,
      Consumer<UsageRows.Sample> samples,
      Consumer<UsageRows.Tokens> tokens);

  /**
   * One GPU's newest sample with ts before {@code millis} ({@code before} true) or its oldest with
   * ts at or after it (false); null when there is none. An indexed read of one document: how
   * accounting finds the neighbour of a range's first or last sample of a GPU outside the margin
   * {@link #usage} reads.
   */
  Future<UsageRows.Sample> neighbour(String gpuUuid, long millis, boolean before);

  /**
   * Streams the counter readings (token events with reading_of) with ts in [from, to); {@link
   * #usage} leaves them out of its token events. The sink is called by one thread at a time.
   */
  Future<Void> readings(long fromMillis, long toMillis, Consumer<UsageRows.Reading> readings);

  /**
   * Streams the latency figures of the token events of requests (not counter readings) with ts in
   * [from, to) that carry {@code latency_ms} or {@code ttft_ms}. The sink is called by one thread
   * at a time, not necessarily the caller's.
   */
  Future<Void> latencies(long fromMillis, long toMillis, Consumer<UsageRows.Latency> latencies);

  /**
   * Streams the token events of requests (not counter readings) with ts in [from, to), of one
   * tenant only when {@code tenant} is not null, reduced to their reported cost; a read on the ts
   * index (the tenant's index with a tenant). The sink is called by one thread at a time.
   */
  Future<Void> reportedCosts(
      long fromMillis, long toMillis, String tenant, Consumer<UsageRows.Reported> sink);

  /**
   * Replaces all rows of one interval of a grain by revision {@code rev} (unique per computation,
   * higher for a later one): idempotent, and a reader of the interval sees either the rows of the
   * revision before or all rows of this one. Completes with false, leaving the interval as it is,
   * when a higher revision is already there (another writer's later computation).
   */
  Future<Boolean> replaceLedger(
      LedgerGrain grain, long start, long end, long rev, List<LedgerRow> rows, long nowMillis);

  /** The rows of the written intervals of a grain with start in [from, to). */
  Future<LedgerRead> ledger(LedgerGrain grain, long fromMillis, long toMillis);

  /**
   * The rows of the written intervals of a grain with start in [from, to), streamed to the sink
   * (one thread at a time) interval by interval, each once it is read complete, so that a read
   * holds one interval's rows whatever the range; completes with the starts of the intervals read.
   */
  Future<SortedSet<Long>> ledger(
      LedgerGrain grain, long fromMillis, long toMillis, Consumer<LedgerRow> sink);

  /**
   * The end of the latest written interval of a grain ({@code last} true: the ledger's watermark)
   * or the start of its earliest (false); null when none is written.
   */
  Future<Long> ledgerEdge(LedgerGrain grain, boolean last);

  /** The earliest event time of the raw events stored, or null when there are none. */
  Future<Long> firstEventMillis();

  /** Marks intervals of a grain (by start) as re-opened: each mark adds one to its count. */
  Future<Void> markDirty(LedgerGrain grain, Collection<Long> starts);

  /** The earliest re-opened intervals of a grain, at most {@code limit}: start to mark count. */
  Future<SortedMap<Long, Long>> dirty(LedgerGrain grain, int limit);

  /**
   * Clears an interval's mark if its count is still {@code marks} (a mark made since it was read,
   * by an event the recomputation may have missed, keeps it re-opened).
   */
  Future<Void> clearDirty(LedgerGrain grain, long start, long marks);

  /**
   * Takes or renews a lease: true when {@code owner} holds it until now + ttl (it was free, expired
   * or its own), false when another owner holds it.
   */
  Future<Boolean> lease(String name, String owner, long nowMillis, long ttlMillis);

  /** What is missing of the collections and indexes {@link #ensureSchema} creates (empty: none). */
  Future<List<String>> schemaProblems();

  /** The given store ids of one event type that are not stored. */
  Future<Set<String>> missing(EventType type, Collection<String> storeIds);

  /** A short description of the collections and indexes, for verify's report. */
  String schemaSummary();

  Future<Void> close();
}
