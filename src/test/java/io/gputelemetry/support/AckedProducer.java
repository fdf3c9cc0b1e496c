package io.gputelemetry.support;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The producer side of a fault test: a plain Kafka producer (acks=all, idempotent) that records the
 * store key of every event Kafka acknowledged, and of every send that failed.
 */
public final class AckedProducer implements AutoCloseable {
  private final KafkaProducer<String, byte[]> producer;
  private final String gpuTopic;
  private final String tokenTopic;
  private final Set<String> acked = ConcurrentHashMap.newKeySet();
  private final Set<String> failed = ConcurrentHashMap.newKeySet();
  private final AtomicLong attempted = new AtomicLong();
  private final java.util.concurrent.atomic.AtomicReference<String> firstError =
      new java.util.concurrent.atomic.AtomicReference<>();
  private volatile Thread streamThread;
  private volatile boolean streaming;

  public AckedProducer(String bootstrap, String gpuTopic, String tokenTopic) {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", bootstrap);
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    p.put("linger.ms", "10");
    p.put("batch.size", "131072");
    p.put("compression.type", "lz4");
    // Generous request timeout and one request in flight per connection: on a starved 2-core
    // machine
    // a request timing out made the idempotent producer restart a partition's sequence at 0, which
    // the broker then refused (OUT_OF_ORDER_SEQUENCE_NUMBER) until the delivery timeout.
    p.put("max.in.flight.requests.per.connection", "1");
    p.put("request.timeout.ms", "60000");
    p.put("delivery.timeout.ms", "120000");
    p.put("client.id", "fault-test-producer");
    producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    this.gpuTopic = gpuTopic;
    this.tokenTopic = tokenTopic;
  }

  public void send(FaultEvents.Rec r) {
    attempted.incrementAndGet();
    producer.send(
        new ProducerRecord<>(r.sample() ? gpuTopic : tokenTopic, r.key(), r.value()),
        (md, err) -> {
          if (err == null) {
            acked.add(r.id());
          } else {
            failed.add(r.id());
            firstError.compareAndSet(null, err.toString());
          }
        });
  }

  /**
   * A raw record (poison, or anything outside the generator); waits for Kafka's acknowledgement.
   */
  public RecordMetadata sendRaw(String topic, String key, byte[] value) throws Exception {
    Future<RecordMetadata> f = producer.send(new ProducerRecord<>(topic, key, value));
    return f.get(60, TimeUnit.SECONDS);
  }

  /**
   * Sends {@code n} events as fast as the producer takes them, then waits for every
   * acknowledgement.
   */
  public void sendAll(FaultEvents gen, long n) {
    for (long i = 0; i < n; i++) {
      send(gen.next());
    }
    producer.flush();
  }

  /**
   * Starts a background stream at about {@code perSecond} events per second, until {@link
   * #stopStream()}.
   */
  public synchronized void startStream(FaultEvents gen, int perSecond) {
    if (streamThread != null) {
      throw new IllegalStateException("already streaming");
    }
    streaming = true;
    streamThread =
        new Thread(
            () -> {
              long start = System.nanoTime();
              long sent = 0;
              while (streaming) {
                long due = (System.nanoTime() - start) * perSecond / 1_000_000_000L;
                while (sent < due && streaming) {
                  send(gen.next());
                  sent++;
                }
                try {
                  Thread.sleep(5);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "fault-producer");
    streamThread.setDaemon(true);
    streamThread.start();
  }

  /** Stops the stream and waits until Kafka answered every send. */
  public synchronized void stopStream() throws InterruptedException {
    streaming = false;
    if (streamThread != null) {
      streamThread.join(10_000);
      streamThread = null;
    }
    producer.flush();
  }

  public void flush() {
    producer.flush();
  }

  /** Store keys of the events Kafka acknowledged. */
  public Set<String> acked() {
    return acked;
  }

  /** Store keys of the sends Kafka did not acknowledge (they may or may not be in the log). */
  public Set<String> failed() {
    return failed;
  }

  /** The first send error, or null. */
  public String firstError() {
    return firstError.get();
  }

  public long attempted() {
    return attempted.get();
  }

  @Override
  public void close() {
    streaming = false;
    producer.close(java.time.Duration.ofSeconds(30));
  }
}
