package io.gputelemetry.standalone;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A MongoDB-wire store in this JVM (mongo-java-server): in memory, or file-backed (H2 MVStore) when
 * a data directory is given, presenting MongoDB 5.0. A stand-in for laptops and demos: no TTL
 * expiry, no replica set.
 */
public final class EmbeddedMongo implements AutoCloseable {
  /**
   * The version the store presents: MongoDB 5.0, wire version 13. The stand-in's own versions stop
   * at wire version 8 (its "5.0" included), which current drivers and shells refuse (mongosh,
   * pymongo 4.x: "requires at least 9"); what we use of it behaves the same at 13 (the tests run
   * against it too).
   */
  public static final MongoVersion VERSION =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
          return 13;
        }
      };

  private final Path file;
  private final int port;
  private MongoBackend backend;
  private MongoServer server;
  private String connectionString;

  public EmbeddedMongo(Path dataDir, int port) {
    this.file = dataDir == null ? null : dataDir.resolve("store.mv");
    this.port = port;
  }

  public void start() {
    if (file != null) {
      try {
        Files.createDirectories(file.getParent());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      backend = new H2Backend(file.toString());
    } else {
      backend = new MemoryBackend();
    }
    backend.version(VERSION);
    server = new MongoServer(backend);
    server.bind("127.0.0.1", port == 0 ? EmbeddedKafka.freePort() : port);
    connectionString = "mongodb://127.0.0.1:" + server.getLocalAddress().getPort();
  }

  public String connectionString() {
    return connectionString;
  }

  public boolean persistent() {
    return file != null;
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdownNow();
      server = null;
    }
    if (backend instanceof H2Backend h2) {
      h2.close();
    }
  }
}
