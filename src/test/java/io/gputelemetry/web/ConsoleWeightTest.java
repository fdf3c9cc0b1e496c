package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** The whole console (its files and uPlot's) stays under 300 KB gzip-compressed. */
class ConsoleWeightTest {
  private static final int LIMIT = 300 * 1024;

  @Test
  void theWholeConsoleIsUnder300KbCompressed() throws Exception {
    List<String> resources = new ArrayList<>();
    ConsoleRoutes.FILES.keySet().forEach(name -> resources.add("console/" + name));
    resources.add(ConsoleRoutes.UPLOT + "uPlot.iife.min.js");
    resources.add(ConsoleRoutes.UPLOT + "uPlot.min.css");
    long raw = 0;
    long compressed = 0;
    for (String r : resources) {
      Buffer b = OpenApiRoute.load(r);
      raw += b.length();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
        gz.write(b.getBytes());
      }
      compressed += out.size();
    }
    assertTrue(
        compressed < LIMIT,
        "the console weighs " + compressed + " bytes compressed (" + raw + " raw), over " + LIMIT);
    // A generous floor: a file that silently stopped being served would make it lighter.
    assertTrue(compressed > 30_000, compressed + " bytes: is everything there?");
  }
}
