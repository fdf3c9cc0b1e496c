package io.gputelemetry.support;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a fault test checks in the store: the raw events stored against those Kafka acknowledged,
 * and the derived {@code gpus} documents. Blocking, for test threads.
 */
public final class StoreAudit implements AutoCloseable {
  /** One fault run in figures: produced = acknowledged by Kafka. */
  public record Tally(
      long produced,
      long stored,
      long duplicates,
      long lost,
      long unexpected,
      Set<String> lostSample,
      Set<String> unexpectedSample,
      long unacknowledged,
      long unacknowledgedStored) {
    public String line(String fault, String detail) {
      return "FAULT "
          + fault
          + ": events produced "
          + produced
          + " / stored "
          + stored
          + " / duplicates "
          + duplicates
          + " / lost "
          + lost
          + (unexpected > 0 ? " / stored but not acknowledged " + unexpected : "")
          + (unacknowledged > 0
              ? " / sends without an answer from Kafka "
                  + unacknowledged
                  + " (of them stored "
                  + unacknowledgedStored
                  + ", not counted above)"
              : "")
          + (detail == null || detail.isEmpty() ? "" : " | " + detail);
    }
  }

  private final MongoQueries store;

  public StoreAudit(String uri) {
    store = new MongoQueries(uri, 120);
  }

  /** Store keys ("collection|_id") of every raw event stored. */
  public Set<String> storedIds() {
    return scan().ids();
  }

  private record Scan(Set<String> ids, long documents, long duplicates) {}

  private Scan scan() {
    Set<String> ids = new HashSet<>();
    long docs = 0;
    long dups = 0;
    for (String c : List.of("gpu_metrics", "token_usage")) {
      Set<String> eventIds = new HashSet<>();
      for (JsonObject d : store.find(c, new JsonObject(), List.of("_id", "event_id"))) {
        docs++;
        ids.add(c + "|" + d.getString("_id"));
        // The same event stored twice under any key is a duplicate, whatever the key scheme.
        if (!eventIds.add(d.getString("event_id"))) {
          dups++;
        }
      }
    }
    return new Scan(ids, docs, dups);
  }

  /**
   * Stored against acknowledged; unexpected = stored but never acknowledged (nor among {@code
   * failedSends}).
   */
  public Tally compare(Set<String> acked, Set<String> failedSends) {
    Scan s = scan();
    Set<String> lost = new TreeSet<>(acked);
    lost.removeAll(s.ids());
    Set<String> unexpected = new TreeSet<>(s.ids());
    unexpected.removeAll(acked);
    unexpected.removeAll(failedSends);
    long failedStored = failedSends.stream().filter(s.ids()::contains).count();
    return new Tally(
        acked.size(),
        s.documents() - failedStored,
        s.duplicates(),
        lost.size(),
        unexpected.size(),
        first(lost, 10),
        first(unexpected, 10),
        failedSends.size(),
        failedStored);
  }

  public long count(String collection) {
    return store.count(collection);
  }

  public long rawCount() {
    return count("gpu_metrics") + count("token_usage");
  }

  /** Every {@code gpus} document by _id. */
  public Map<String, JsonObject> gpus() {
    Map<String, JsonObject> m = new HashMap<>();
    for (JsonObject d : store.find("gpus", new JsonObject())) {
      m.put(d.getString("_id"), d);
    }
    return m;
  }

  public List<JsonObject> find(String collection, JsonObject query) {
    return store.find(collection, query);
  }

  /** The differences between two inventories, empty when equal. */
  public static List<String> diff(
      Map<String, JsonObject> actual, Map<String, JsonObject> expected) {
    List<String> out = new ArrayList<>();
    Set<String> keys = new TreeSet<>(actual.keySet());
    keys.addAll(expected.keySet());
    for (String k : keys) {
      JsonObject a = actual.get(k);
      JsonObject e = expected.get(k);
      if (a == null || !a.equals(e)) {
        out.add(k + ": expected " + e + "\n   but was " + a);
      }
    }
    return out;
  }

  private static Set<String> first(Set<String> s, int n) {
    Set<String> out = new TreeSet<>();
    for (String x : s) {
      if (out.size() >= n) {
        break;
      }
      out.add(x);
    }
    return out;
  }

  @Override
  public void close() {
    store.close();
  }
}
