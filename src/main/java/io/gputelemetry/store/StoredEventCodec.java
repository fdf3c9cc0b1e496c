package io.gputelemetry.store;

import io.gputelemetry.event.Event;
import io.gputelemetry.event.EventFields;
import io.gputelemetry.event.EventType;
import org.bson.BsonDocument;
import org.bson.BsonDocumentWriter;
import org.bson.BsonReader;
import org.bson.BsonWriter;
import org.bson.codecs.Codec;
import org.bson.codecs.DecoderContext;
import org.bson.codecs.EncoderContext;

/**
 * The stored form of an event, the one encoder of both event types: {@code _id} scoped by source,
 * the event's fields in schema order ({@code ts} as a BSON date, numbers as the JSON had them),
 * {@code received_at}, and for token events {@code total_tokens} and the live estimate ({@code
 * cost_per_token_usd}, {@code cost_usd}) or {@code unpriced: true}. The store encodes each event
 * once into a raw document with it; the inventory's {@code last} state is the same fields ({@link
 * #fields}).
 */
public final class StoredEventCodec implements Codec<StoredEvent> {
  static final String ID = "_id";
  static final String RECEIVED_AT = "received_at";
  static final String TOTAL_TOKENS = "total_tokens";
  static final String COST_PER_TOKEN = "cost_per_token_usd";
  static final String COST = "cost_usd";
  static final String UNPRICED = "unpriced";

  @Override
  public void encode(BsonWriter w, StoredEvent s, EncoderContext context) {
    Event e = s.event();
    w.writeStartDocument();
    w.writeString(ID, e.storeId());
    writeFields(w, e);
    w.writeDateTime(RECEIVED_AT, s.receivedAtMillis());
    // A counter reading carries totals since the server started, not one request's tokens.
    if (e.type() == EventType.TOKEN_USAGE && e.text(EventFields.T_READING_OF) == null) {
      long total = e.integer(EventFields.T_INPUT, 0) + e.integer(EventFields.T_OUTPUT, 0);
      w.writeInt64(TOTAL_TOKENS, total);
      if (!s.unpriced() && !Double.isNaN(s.costPerToken())) {
        w.writeDouble(COST_PER_TOKEN, s.costPerToken());
        w.writeDouble(COST, s.costPerToken() * total);
      }
    }
    if (s.unpriced()) {
      w.writeBoolean(UNPRICED, true);
    }
    w.writeEndDocument();
  }

  /** The event's own fields as a document (the inventory's last state of a GPU). */
  static BsonDocument fields(Event e) {
    BsonDocument d = new BsonDocument();
    BsonDocumentWriter w = new BsonDocumentWriter(d);
    w.writeStartDocument();
    writeFields(w, e);
    w.writeEndDocument();
    return d;
  }

  private static void writeFields(BsonWriter w, Event e) {
    for (EventFields.Field f : EventFields.of(e.type()).all()) {
      if (f.kind() == EventFields.Kind.TS) {
        w.writeDateTime(f.name(), e.ts().toEpochMilli());
        continue;
      }
      Object v = e.value(f);
      if (v instanceof String s) {
        w.writeString(f.name(), s);
      } else if (v instanceof Integer i) {
        w.writeInt32(f.name(), i);
      } else if (v instanceof Long l) {
        w.writeInt64(f.name(), l);
      } else if (v instanceof Double d) {
        w.writeDouble(f.name(), d);
      }
    }
  }

  @Override
  public StoredEvent decode(BsonReader reader, DecoderContext context) {
    throw new UnsupportedOperationException("stored events are written, never read back as such");
  }

  @Override
  public Class<StoredEvent> getEncoderClass() {
    return StoredEvent.class;
  }
}
