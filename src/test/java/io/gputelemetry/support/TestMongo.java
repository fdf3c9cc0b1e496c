package io.gputelemetry.support;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.gputelemetry.standalone.EmbeddedMongo;

/**
 * A MongoDB-wire server (mongo-java-server, in memory) on a loopback port; each test gets its own.
 */
public final class TestMongo implements AutoCloseable {
  private final MongoServer server;
  private final String uri;

  public TestMongo() {
    server = new MongoServer(new MemoryBackend().version(EmbeddedMongo.VERSION));
    java.net.InetSocketAddress a = server.bind();
    uri = "mongodb://127.0.0.1:" + a.getPort();
  }

  public String uri() {
    return uri;
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
