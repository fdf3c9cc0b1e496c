package io.gputelemetry.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Random;
import org.bson.BsonBinaryWriter;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import org.junit.jupiter.api.Test;

/** The stored form, byte for byte as the BSON library would encode the same document. */
class EventWriterTest {
  private static final String[] SAMPLES = {
    "",
    "a",
    "GPU-5a1c0f2e",
    "caf\u00e9",
    "\u4e2d\u6587",
    "\ud83d\ude80 rocket",
    "lone \ud800 high",
    "lone \udc00 low",
    "nul \u0000 inside",
    "\u07ff\u0800\uffff",
    "x".repeat(300)
  };

  @Test
  void encodesExactlyAsTheBsonLibrary() {
    Random r = new Random(42);
    for (int i = 0; i < 2000; i++) {
      EventType type = r.nextBoolean() ? EventType.GPU_SAMPLE : EventType.TOKEN_USAGE;
      ObjectNode body = JsonNodeFactory.instance.objectNode();
      for (EventFields.Field f : EventFields.of(type).all()) {
        if (!f.required() && f.index() != 0 && r.nextInt(3) == 0) {
          continue;
        }
        switch (f.kind()) {
          case ID, TEXT -> body.put(f.name(), SAMPLES[r.nextInt(SAMPLES.length)] + r.nextInt(1000));
          case TS -> body.put(f.name(), "ignored: the event's instant is stored");
          case INT -> {
            if (r.nextBoolean()) {
              body.put(f.name(), r.nextInt());
            } else {
              body.put(f.name(), r.nextLong());
            }
          }
          case NUM -> {
            double[] special = {
              0.0, -0.0, Double.NaN, Double.MAX_VALUE, Double.MIN_VALUE, r.nextGaussian() * 1e6
            };
            if (r.nextBoolean()) {
              body.put(f.name(), special[r.nextInt(special.length)]);
            } else {
              body.put(f.name(), r.nextInt(100_000));
            }
          }
          default -> throw new AssertionError(f);
        }
      }
      Instant ts = Instant.ofEpochMilli(1_700_000_000_000L + r.nextInt(1_000_000_000));
      Event e =
          new Event(
              type, body, body.get("event_id").asText(), body.get(type.scopeField()).asText(), ts);
      boolean unpriced = r.nextInt(4) == 0;
      double cost = r.nextInt(3) == 0 ? Double.NaN : r.nextDouble() / 1000;
      long received = ts.toEpochMilli() + r.nextInt(5000);

      RawBsonDocument ours = EventWriter.toBson(e, received, unpriced, cost);
      BsonDocument expected = reference(e, received, unpriced, cost);
      assertArrayEquals(
          encode(expected), bytes(ours), () -> "bytes differ from " + expected.toJson());
      assertEquals(
          expected.keySet(), ours.toBsonDocument().keySet(), "decodes, with the same fields");
    }
  }

  /** The same document built with the library, in the same field order. */
  private static BsonDocument reference(Event e, long received, boolean unpriced, double cost) {
    BsonDocument d = new BsonDocument("_id", new BsonString(e.storeId()));
    for (EventFields.Field f : EventFields.of(e.type()).all()) {
      Object v = e.value(f);
      if (f.kind() == EventFields.Kind.TS) {
        d.put(f.name(), new BsonDateTime(e.ts().toEpochMilli()));
      } else if (v instanceof String s) {
        d.put(f.name(), new BsonString(s));
      } else if (v instanceof Integer n) {
        d.put(f.name(), new BsonInt32(n));
      } else if (v instanceof Long n) {
        d.put(f.name(), new BsonInt64(n));
      } else if (v instanceof Double n) {
        d.put(f.name(), new BsonDouble(n));
      }
    }
    d.put("received_at", new BsonDateTime(received));
    if (e.type() == EventType.TOKEN_USAGE) {
      long total = e.integer(EventFields.T_INPUT, 0) + e.integer(EventFields.T_OUTPUT, 0);
      d.put("total_tokens", new BsonInt64(total));
      if (!unpriced && !Double.isNaN(cost)) {
        d.put("cost_per_token_usd", new BsonDouble(cost));
        d.put("cost_usd", new BsonDouble(cost * total));
      }
    }
    if (unpriced) {
      d.put("unpriced", BsonBoolean.TRUE);
    }
    return d;
  }

  private static byte[] encode(BsonDocument d) {
    BasicOutputBuffer out = new BasicOutputBuffer();
    new BsonDocumentCodec().encode(new BsonBinaryWriter(out), d, EncoderContext.builder().build());
    return out.toByteArray();
  }

  private static byte[] bytes(RawBsonDocument d) {
    ByteBuffer b = d.getByteBuffer().asNIO();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
