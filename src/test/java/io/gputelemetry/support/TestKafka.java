package io.gputelemetry.support;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.common.utils.Exit;

/**
 * One real Apache Kafka broker (KRaft, in this JVM) shared by the integration tests of a test run,
 * closed when the JVM exits. Tests isolate themselves with their own topic names and group ids.
 */
public final class TestKafka {
  private static KafkaClusterTestKit cluster;

  private TestKafka() {}

  public static synchronized String bootstrapServers() {
    if (cluster == null) {
      // A broker that gives up (at JVM exit, its shutdown hook racing the test run's end) must not
      // end
      // the test JVM with a non-zero code: the test runner would fail a run whose tests all passed.
      Exit.setExitProcedure(
          (code, message) ->
              System.err.println("test Kafka asked to exit " + code + ": " + message));
      Exit.setHaltProcedure(
          (code, message) ->
              System.err.println("test Kafka asked to halt " + code + ": " + message));
      try {
        KafkaClusterTestKit c =
            new KafkaClusterTestKit.Builder(
                    new TestKitNodes.Builder()
                        .setCombined(true)
                        .setNumBrokerNodes(1)
                        .setNumControllerNodes(1)
                        .build())
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "3")
                .setConfigProp("auto.create.topics.enable", "false")
                .build();
        c.format();
        c.startup();
        c.waitForReadyBrokers();
        cluster = c;
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      try {
                        c.close();
                      } catch (Exception e) {
                        // JVM exit: nothing more to do.
                      }
                    }));
      } catch (Exception e) {
        throw new IllegalStateException("cannot start the test Kafka broker", e);
      }
    }
    return cluster.bootstrapServers();
  }
}
