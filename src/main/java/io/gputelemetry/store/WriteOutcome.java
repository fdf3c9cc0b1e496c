package io.gputelemetry.store;

import java.util.Map;
import java.util.Set;

/**
 * What an unordered bulk insert did, per document index: newly stored, already there (duplicate
 * key: stored once, by an earlier write), or refused by the store for a data reason.
 */
public record WriteOutcome(int size, Set<Integer> duplicates, Map<Integer, String> rejected) {

  public static WriteOutcome allInserted(int size) {
    return new WriteOutcome(size, Set.of(), Map.of());
  }

  public int inserted() {
    return size - duplicates.size() - rejected.size();
  }

  /** True when this write stored the document (not a duplicate, not refused). */
  public boolean newlyStored(int index) {
    return !duplicates.contains(index) && !rejected.containsKey(index);
  }
}
