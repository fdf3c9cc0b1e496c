package io.gputelemetry.store;

import static com.mongodb.client.model.Indexes.ascending;

import io.gputelemetry.event.EventType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.conversions.Bson;

/**
 * The collections of the store and their indexes, declared once: the store ensures them at start-up
 * and verify checks them.
 */
final class Schema {
  static final String TTL_INDEX = "ts_ttl";

  /** The TTL index of the ledger's collections (ledger.retention, not mongo.retention). */
  static final String LEDGER_TTL_INDEX = "start_ttl";

  /** The ledger's bookkeeping: one document per written interval (grain, start, revision). */
  static final String LEDGER_INTERVALS = "ledger_intervals";

  /** Written intervals re-opened by a late event, to be recomputed. */
  static final String LEDGER_DIRTY = "ledger_dirty";

  /** Who writes the ledger: one lease document. */
  static final String LEDGER_LEASE = "ledger_lease";

  /** An index the store ensures and verify checks. */
  record Index(String name, Bson keys, boolean ttl) {}

  static final Map<String, List<Index>> COLLECTIONS = collections();

  private static Map<String, List<Index>> collections() {
    Map<String, List<Index>> m = new LinkedHashMap<>();
    m.put(
        Store.collection(EventType.GPU_SAMPLE),
        List.of(
            new Index("gpu_uuid_ts", ascending("gpu_uuid", "ts"), false),
            new Index("node_ts", ascending("node", "ts"), false),
            new Index(TTL_INDEX, ascending("ts"), true)));
    m.put(
        Store.collection(EventType.TOKEN_USAGE),
        List.of(
            new Index("model_ts", ascending("model", "ts"), false),
            new Index("tenant_ts", ascending("tenant", "ts"), false),
            new Index(TTL_INDEX, ascending("ts"), true)));
    m.put(
        Store.INVENTORY,
        List.of(
            new Index("node", ascending("node"), false),
            new Index("gpu_model", ascending("gpu_model"), false),
            new Index("model", ascending("model"), false)));
    for (LedgerGrain g : LedgerGrain.values()) {
      m.put(
          g.collection(),
          List.of(
              new Index("start_rev", ascending("start", "rev"), false),
              new Index(LEDGER_TTL_INDEX, ascending("start"), true)));
    }
    m.put(
        LEDGER_INTERVALS,
        List.of(
            new Index("grain_start", ascending("grain", "start"), false),
            new Index(LEDGER_TTL_INDEX, ascending("start"), true)));
    m.put(LEDGER_DIRTY, List.of(new Index("grain_start", ascending("grain", "start"), false)));
    return Collections.unmodifiableMap(m);
  }

  /** Whether a collection belongs to the ledger (its TTL is ledger.retention). */
  static boolean ledger(String collection) {
    return collection.startsWith("ledger_");
  }

  private Schema() {}

  /** A short description for verify's report. */
  static String summary() {
    return COLLECTIONS.size()
        + " collections, "
        + COLLECTIONS.values().stream().mapToInt(List::size).sum()
        + " indexes";
  }
}
