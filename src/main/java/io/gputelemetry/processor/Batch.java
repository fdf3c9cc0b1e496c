package io.gputelemetry.processor;

import io.gputelemetry.event.EventType;
import io.gputelemetry.store.StoredEvent;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One polled batch: a record per valid event, by type, the records bound for the DLQ, and the
 * offsets to commit once all of it is stored.
 */
public final class Batch {
  /** A valid event and the Kafka record it came from. */
  public record Item(ConsumerRecord<String, byte[]> record, StoredEvent stored) {}

  /** A record bound for the DLQ, with why, and its event id where it was read (else null). */
  public record DeadLetter(
      ConsumerRecord<String, byte[]> record, String reason, String detail, String eventId) {}

  private final Map<EventType, List<Item>> items = new EnumMap<>(EventType.class);
  private final List<DeadLetter> deadLetters = new ArrayList<>();
  private final BitSet deadLettersSent = new BitSet();
  private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
  private final Map<String, Long> consumedByTopic = new HashMap<>();
  private int records;

  public Batch() {
    for (EventType t : EventType.values()) {
      items.put(t, new ArrayList<>());
    }
  }

  /** Counts a polled record toward the offsets to commit. */
  void track(ConsumerRecord<String, byte[]> r) {
    nextOffsets.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
    consumedByTopic.merge(r.topic(), 1L, Long::sum);
    records++;
  }

  void add(ConsumerRecord<String, byte[]> r, StoredEvent e) {
    items.get(e.event().type()).add(new Item(r, e));
  }

  void deadLetter(ConsumerRecord<String, byte[]> r, String reason, String detail) {
    deadLetters.add(new DeadLetter(r, reason, detail, null));
  }

  void deadLetter(Item item, String reason, String detail) {
    deadLetters.add(new DeadLetter(item.record(), reason, detail, item.stored().event().eventId()));
  }

  /** The valid events of one type, in poll order. */
  public List<Item> items(EventType type) {
    return Collections.unmodifiableList(items.get(type));
  }

  public List<DeadLetter> deadLetters() {
    return Collections.unmodifiableList(deadLetters);
  }

  /** Dead letters not yet acknowledged by the DLQ (a retried send resends only these). */
  List<Integer> pendingDeadLetters() {
    List<Integer> out = new ArrayList<>();
    for (int i = deadLettersSent.nextClearBit(0);
        i < deadLetters.size();
        i = deadLettersSent.nextClearBit(i + 1)) {
      out.add(i);
    }
    return out;
  }

  void deadLetterSent(int index) {
    deadLettersSent.set(index);
  }

  public Map<TopicPartition, Long> nextOffsets() {
    return Collections.unmodifiableMap(nextOffsets);
  }

  public Map<String, Long> consumedByTopic() {
    return Collections.unmodifiableMap(consumedByTopic);
  }

  public int size() {
    return records;
  }
}
