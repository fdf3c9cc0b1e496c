package io.gputelemetry.support;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.regex.Pattern;

/** The MongoDB-wire store (in memory) in its own JVM; its data lives as long as the process. */
public final class StoreProcess implements AutoCloseable {
  private static final Pattern PORT = Pattern.compile("listening (\\d+)");
  private final ChildJvm jvm;
  private final int port;

  public StoreProcess() throws Exception {
    this("2g");
  }

  /**
   * A store with the given maximum heap ({@code -Xmx}): the stand-in keeps every document on it, so
   * a benchmark that generates a large collection needs room, or its reads measure the collector.
   */
  public StoreProcess(String heap) throws Exception {
    jvm = ChildJvm.start("store", heap, MongoWireServerMain.class.getName());
    await().atMost(Duration.ofSeconds(30)).until(() -> jvm.find(PORT) != null || !jvm.alive());
    String p = jvm.find(PORT);
    if (p == null) {
      throw new IllegalStateException("store did not start:\n" + jvm.output());
    }
    port = Integer.parseInt(p);
  }

  public int port() {
    return port;
  }

  public String uri() {
    return "mongodb://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    jvm.close();
  }
}
