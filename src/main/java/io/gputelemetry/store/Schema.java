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
    return Collections.unmodifiableMap(m);
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
