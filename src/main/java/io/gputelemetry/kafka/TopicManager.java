package io.gputelemetry.kafka;

import io.gputelemetry.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import io.vertx.kafka.admin.TopicDescription;
import io.vertx.kafka.client.common.Node;
import io.vertx.kafka.client.common.TopicPartitionInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/** Creates the pipeline's topics when absent, with the configured partitions and replication. */
public final class TopicManager {
  private static final Logger LOG = LogManager.getLogger(TopicManager.class);

  private TopicManager() {}

  public static List<String> topics(AppConfig.Kafka k) {
    return List.of(k.topics().gpuMetrics(), k.topics().tokenUsage(), k.topics().dlq());
  }

  /**
   * Creates the missing topics, then succeeds once every partition has a leader: a new topic's
   * leaders are elected after it is created, and a send before that waits, or fails under load.
   */
  public static Future<Void> ensureTopics(KafkaAdminClient admin, AppConfig.Kafka k) {
    return createMissing(admin, k).compose(v -> leadersElected(admin, topics(k)));
  }

  private static Future<Void> leadersElected(KafkaAdminClient admin, List<String> topics) {
    return admin
        .describeTopics(topics)
        .compose(
            described -> {
              for (TopicDescription t : described.values()) {
                for (TopicPartitionInfo p : t.getPartitions()) {
                  Node leader = p.getLeader();
                  if (leader == null || leader.isEmpty() || leader.getId() < 0) {
                    return Future.failedFuture(
                        new IllegalStateException(
                            t.getName() + "-" + p.getPartition() + " has no leader yet"));
                  }
                }
              }
              return Future.succeededFuture();
            });
  }

  private static Future<Void> createMissing(KafkaAdminClient admin, AppConfig.Kafka k) {
    return admin
        .listTopics()
        .compose(
            existing -> {
              List<NewTopic> missing = new ArrayList<>();
              for (String t : topics(k)) {
                if (!existing.contains(t)) {
                  Map<String, String> cfg = new HashMap<>();
                  if (k.topicSpec().minInsyncReplicas() > 0) {
                    cfg.put(
                        "min.insync.replicas", Integer.toString(k.topicSpec().minInsyncReplicas()));
                  }
                  missing.add(
                      new NewTopic(t, k.topicSpec().partitions(), k.topicSpec().replicationFactor())
                          .setConfig(cfg));
                }
              }
              if (missing.isEmpty()) {
                return Future.succeededFuture();
              }
              return admin
                  .createTopics(missing)
                  .onSuccess(
                      v ->
                          missing.forEach(
                              t ->
                                  LOG.info(
                                      "created topic {} ({} partitions, replication {})",
                                      t.getName(),
                                      t.getNumPartitions(),
                                      t.getReplicationFactor())))
                  .recover(
                      err -> isExists(err) ? Future.succeededFuture() : Future.failedFuture(err));
            });
  }

  private static boolean isExists(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof TopicExistsException) {
        return true;
      }
    }
    return false;
  }
}
