package io.gputelemetry.support;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.gputelemetry.standalone.EmbeddedMongo;
import java.net.InetSocketAddress;

/**
 * A MongoDB-wire store (mongo-java-server, in memory) as its own process, so that its CPU and
 * garbage stay out of the test JVM: prints "listening PORT" and serves until killed.
 */
public final class MongoWireServerMain {
  private MongoWireServerMain() {}

  public static void main(String[] args) throws Exception {
    MongoServer server = new MongoServer(new MemoryBackend().version(EmbeddedMongo.VERSION));
    server.bind("127.0.0.1", args.length > 0 ? Integer.parseInt(args[0]) : 0);
    InetSocketAddress a = server.getLocalAddress();
    System.out.println("listening " + a.getPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
