package io.gputelemetry.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bson.RawBsonDocument;

/**
 * Writes one flat BSON document into a byte array: the few element types the stored events use,
 * with field names encoded once in advance. The BSON library's writer does the same with a state
 * machine, name validation and a byte at a time through an output interface; on the processor's hot
 * path that was a quarter of its CPU. Strings are encoded exactly as the library encodes them (code
 * point by code point, lone surrogates as three bytes); {@code EventWriterTest} compares the bytes
 * with the library's for random events.
 */
final class BsonBytes {
  private byte[] buf;
  private int pos = 4;

  BsonBytes(int capacity) {
    buf = new byte[Math.max(capacity, 16)];
  }

  /** A field name as a BSON cstring. */
  static byte[] name(String name) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    return Arrays.copyOf(utf8, utf8.length + 1);
  }

  void string(byte[] name, String value) {
    element(0x02, name);
    int lengthAt = pos;
    ensure(4 + value.length() * 3 + 1);
    pos += 4;
    for (int i = 0; i < value.length(); ) {
      int c = value.codePointAt(i);
      i += Character.charCount(c);
      if (c < 0x80) {
        buf[pos++] = (byte) c;
      } else if (c < 0x800) {
        buf[pos++] = (byte) (0xc0 | (c >> 6));
        buf[pos++] = (byte) (0x80 | (c & 0x3f));
      } else if (c < 0x10000) {
        buf[pos++] = (byte) (0xe0 | (c >> 12));
        buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        buf[pos++] = (byte) (0x80 | (c & 0x3f));
      } else {
        buf[pos++] = (byte) (0xf0 | (c >> 18));
        buf[pos++] = (byte) (0x80 | ((c >> 12) & 0x3f));
        buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        buf[pos++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    buf[pos++] = 0;
    putInt(lengthAt, pos - lengthAt - 4);
  }

  void int32(byte[] name, int value) {
    element(0x10, name);
    ensure(4);
    putInt(pos, value);
    pos += 4;
  }

  void int64(byte[] name, long value) {
    element(0x12, name);
    long64(value);
  }

  void dbl(byte[] name, double value) {
    element(0x01, name);
    long64(Double.doubleToRawLongBits(value));
  }

  void dateTime(byte[] name, long epochMillis) {
    element(0x09, name);
    long64(epochMillis);
  }

  void bool(byte[] name, boolean value) {
    element(0x08, name);
    ensure(1);
    buf[pos++] = (byte) (value ? 1 : 0);
  }

  /** Ends the document; the writer is not to be used after. */
  RawBsonDocument finish() {
    ensure(1);
    buf[pos++] = 0;
    putInt(0, pos);
    return new RawBsonDocument(buf, 0, pos);
  }

  private void element(int type, byte[] name) {
    ensure(1 + name.length);
    buf[pos++] = (byte) type;
    System.arraycopy(name, 0, buf, pos, name.length);
    pos += name.length;
  }

  private void long64(long v) {
    ensure(8);
    for (int i = 0; i < 8; i++) {
      buf[pos++] = (byte) (v >>> (8 * i));
    }
  }

  private void putInt(int at, int v) {
    buf[at] = (byte) v;
    buf[at + 1] = (byte) (v >>> 8);
    buf[at + 2] = (byte) (v >>> 16);
    buf[at + 3] = (byte) (v >>> 24);
  }

  private void ensure(int more) {
    if (pos + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
    }
  }
}
