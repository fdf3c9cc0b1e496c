package io.gputelemetry.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;

/**
 * A 3-node KRaft cluster (each node broker and controller) for broker-failure tests: every node its
 * own JVM running {@code kafka.Kafka} from the test classpath, with storage formatted by {@code
 * kafka.tools.StorageTool}, so that one node can be killed and restarted on its own log.
 */
public final class KraftCluster implements AutoCloseable {
  private final Path dir;
  private final int[] brokerPorts;
  private final Path[] configs;
  private final ChildJvm[] nodes;

  public KraftCluster(int size) throws Exception {
    dir = Files.createTempDirectory("kraft-cluster-");
    brokerPorts = new int[size];
    int[] controllerPorts = new int[size];
    for (int i = 0; i < size; i++) {
      brokerPorts[i] = freePort();
      controllerPorts[i] = freePort();
    }
    String voters =
        java.util.stream.IntStream.range(0, size)
            .mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllerPorts[i])
            .collect(Collectors.joining(","));
    String template;
    try (InputStream in = KraftCluster.class.getResourceAsStream("/faults/kraft-node.properties")) {
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String clusterId = Uuid.randomUuid().toString();
    configs = new Path[size];
    nodes = new ChildJvm[size];
    List<ChildJvm> formats = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      Path logDir = Files.createDirectories(dir.resolve("node-" + (i + 1)));
      String props =
          template
              .replace("${node.id}", Integer.toString(i + 1))
              .replace("${voters}", voters)
              .replace("${broker.port}", Integer.toString(brokerPorts[i]))
              .replace("${controller.port}", Integer.toString(controllerPorts[i]))
              .replace("${log.dir}", logDir.toString());
      configs[i] = dir.resolve("node-" + (i + 1) + ".properties");
      Files.writeString(configs[i], props, StandardCharsets.UTF_8);
      formats.add(
          ChildJvm.start(
              "format-" + (i + 1),
              "256m",
              "kafka.tools.StorageTool",
              "format",
              "-t",
              clusterId,
              "-c",
              configs[i].toString()));
    }
    for (ChildJvm f : formats) {
      int rc = f.waitFor(60);
      if (rc != 0) {
        throw new IllegalStateException("formatting a node's storage failed:\n" + f.output());
      }
    }
    for (int i = 0; i < size; i++) {
      start(i);
    }
    awaitBrokers(size);
  }

  /** Starts node {@code i} (0-based) on its existing log. */
  public void start(int i) throws IOException {
    nodes[i] = ChildJvm.start("kafka-" + (i + 1), "512m", "kafka.Kafka", configs[i].toString());
  }

  /** SIGKILL of node {@code i} (0-based). */
  public void kill(int i) throws InterruptedException {
    nodes[i].kill();
  }

  /** Waits until {@code n} brokers are registered and answering. */
  public void awaitBrokers(int n) {
    try (Admin admin =
        Admin.create(
            Map.of(
                "bootstrap.servers",
                bootstrapServers(),
                "request.timeout.ms",
                "5000",
                "default.api.timeout.ms",
                "10000"))) {
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(
              () -> {
                for (ChildJvm node : nodes) {
                  if (node != null && !node.alive()) {
                    throw new IllegalStateException("a Kafka node exited:\n" + node.tail(40));
                  }
                }
                return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() >= n;
              });
    }
  }

  /** Node id (1-based, as Kafka numbers them) to index. */
  public static int index(int nodeId) {
    return nodeId - 1;
  }

  public String bootstrapServers() {
    return java.util.Arrays.stream(brokerPorts)
        .mapToObj(p -> "127.0.0.1:" + p)
        .collect(Collectors.joining(","));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    for (ChildJvm n : nodes) {
      if (n != null) {
        n.close();
      }
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }
}
