import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/** The Mongo-wire stand-in (mongo-java-server, memory backend) in its own JVM: BenchStore PORT. */
public final class BenchStore {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    MongoServer server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", port);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println("store listening on 127.0.0.1:" + port);
    System.out.flush();
    Thread.currentThread().join();
  }
}
