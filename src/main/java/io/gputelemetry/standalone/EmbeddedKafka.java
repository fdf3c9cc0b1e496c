package io.gputelemetry.standalone;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/** A single-node Apache Kafka (KRaft, combined broker + controller) in this JVM, on loopback. */
public final class EmbeddedKafka implements AutoCloseable {
  private final Path logDir;
  private final int port;
  private KafkaRaftServer server;

  /**
   * @param logDir where the broker keeps its log; formatted on first use, reused after.
   */
  public EmbeddedKafka(Path logDir, int port) {
    this.logDir = logDir;
    this.port = port == 0 ? freePort() : port;
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public void start() {
    try {
      Files.createDirectories(logDir);
      Path props = logDir.resolve("server.properties");
      int controllerPort = previousControllerPort(props);
      Properties p = new Properties();
      p.put("process.roles", "broker,controller");
      p.put("node.id", "1");
      p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      p.put(
          "listeners",
          "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
      p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
      p.put("controller.listener.names", "CONTROLLER");
      p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      p.put("inter.broker.listener.name", "PLAINTEXT");
      p.put("log.dirs", logDir.toString());
      p.put("offsets.topic.replication.factor", "1");
      p.put("offsets.topic.num.partitions", "3");
      p.put("transaction.state.log.replication.factor", "1");
      p.put("transaction.state.log.min.isr", "1");
      p.put("share.coordinator.state.topic.replication.factor", "1");
      p.put("share.coordinator.state.topic.min.isr", "1");
      p.put("group.initial.rebalance.delay.ms", "0");
      p.put("num.partitions", "3");
      p.put("auto.create.topics.enable", "false");
      p.put("log.retention.hours", "168");
      p.put("log.segment.bytes", Integer.toString(64 * 1024 * 1024));
      try (var w = Files.newBufferedWriter(props, StandardCharsets.UTF_8)) {
        p.store(w, "embedded broker");
      }
      if (!Files.exists(logDir.resolve("meta.properties"))) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc =
            StorageTool.execute(
                new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", props.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8));
        if (rc != 0) {
          throw new IllegalStateException(
              "formatting the embedded Kafka log failed: " + out.toString(StandardCharsets.UTF_8));
        }
      }
      KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(p), Time.SYSTEM);
      server = s;
      s.startup();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stops the broker, waiting at most 30 s: a broker stopped while still starting can wait for a
   * start-up that never completes, and a stop must never hang the process.
   */
  @Override
  public void close() {
    KafkaRaftServer s = server;
    server = null;
    if (s == null) {
      return;
    }
    Thread stopper =
        new Thread(
            () -> {
              s.shutdown();
              s.awaitShutdown();
            },
            "embedded-kafka-stop");
    stopper.setDaemon(true);
    stopper.start();
    try {
      stopper.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A restarted broker keeps its controller address: the KRaft quorum state remembers it. */
  private static int previousControllerPort(Path props) throws IOException {
    if (Files.exists(props)) {
      Properties old = new Properties();
      try (var r = Files.newBufferedReader(props, StandardCharsets.UTF_8)) {
        old.load(r);
      }
      String voters = old.getProperty("controller.quorum.voters", "");
      int colon = voters.lastIndexOf(':');
      if (colon > 0) {
        return Integer.parseInt(voters.substring(colon + 1));
      }
    }
    return freePort();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
