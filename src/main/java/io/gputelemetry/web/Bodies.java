package io.gputelemetry.web;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** How an ingest request body is cut into events, without building a tree where it can. */
final class Bodies {
  private Bodies() {}

  /**
   * NDJSON: one event per non-blank line, as {offset, length}; a line that is not JSON becomes that
   * event's error.
   */
  static List<int[]> ndjsonLines(byte[] bytes) {
    List<int[]> lines = new ArrayList<>();
    int lineStart = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == '\n') {
        int end = i;
        if (end > lineStart && bytes[end - 1] == '\r') {
          end--;
        }
        if (!isBlank(bytes, lineStart, end)) {
          lines.add(new int[] {lineStart, end - lineStart});
        }
        lineStart = i + 1;
      }
    }
    return lines;
  }

  /**
   * The objects of a JSON array (or the one object) as {offset, length} slices, found by one
   * streaming pass without building a tree; null when the body is anything else, or not valid JSON.
   */
  static List<int[]> elements(byte[] bytes) {
    List<int[]> out = new ArrayList<>();
    try (JsonParser p = Json.MAPPER.getFactory().createParser(bytes)) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.START_OBJECT) {
        p.skipChildren();
        out.add(new int[] {0, bytes.length});
      } else if (t == JsonToken.START_ARRAY) {
        while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
          int from = (int) p.currentTokenLocation().getByteOffset();
          p.skipChildren();
          out.add(new int[] {from, (int) p.currentLocation().getByteOffset() - from});
        }
        if (t != JsonToken.END_ARRAY) {
          return null;
        }
      } else {
        return null;
      }
      return p.nextToken() == null ? out : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Whether the slice holds {@code needle} (ASCII) anywhere: a cheap look before parsing it. */
  static boolean contains(byte[] b, int off, int len, byte[] needle) {
    int last = off + len - needle.length;
    outer:
    for (int i = off; i <= last; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (b[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static boolean isBlank(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
        return false;
      }
    }
    return true;
  }
}
