package io.gputelemetry.web;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;

/**
 * Serves the API description shipped in the jar at /openapi.yaml, and the event schemas under
 * /schemas/.
 */
public final class OpenApiRoute {
  public static final String RESOURCE = "openapi.yaml";

  private OpenApiRoute() {}

  public static void install(Router router) {
    Buffer doc = load();
    // A copy per answer: one buffer is not written by several event loops at once.
    router
        .get("/openapi.yaml")
        .handler(
            ctx -> ctx.response().putHeader("Content-Type", "application/yaml").end(doc.copy()));
    for (String name : new String[] {"gpu.metrics.v1", "token.usage.v1"}) {
      Buffer schema = load("schemas/" + name + ".schema.json");
      router
          .get("/schemas/" + name + ".schema.json")
          .handler(
              ctx ->
                  ctx.response()
                      .putHeader("Content-Type", "application/schema+json")
                      .end(schema.copy()));
    }
  }

  private static Buffer load() {
    return load(RESOURCE);
  }

  /** A resource of the jar, read once at start. */
  static Buffer load(String resource) {
    try (InputStream in = OpenApiRoute.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " missing from the classpath");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
