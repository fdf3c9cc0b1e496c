package io.gputelemetry.accounting;

import io.gputelemetry.store.MongoStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.function.Consumer;

/** Reads the stored events of a range from MongoDB, streaming, into a {@link UsageCalculator}. */
public final class UsageService {
  private final Vertx vertx;
  private final MongoClient mongo;
  private final PriceBook prices;
  private final GpuProfiles profiles;
  private final long maxGapMillis;
  private final long allocationMillis;

  public UsageService(
      Vertx vertx,
      MongoClient mongo,
      PriceBook prices,
      GpuProfiles profiles,
      long maxGapMillis,
      long allocationMillis) {
    this.allocationMillis = allocationMillis;
    this.vertx = vertx;
    this.mongo = mongo;
    this.prices = prices;
    this.profiles = profiles;
    this.maxGapMillis = maxGapMillis;
  }

  public Future<UsageCalculator.Report> usage(
      long from, long to, long step, UsageCalculator.GroupBy groupBy) {
    UsageCalculator calc =
        new UsageCalculator(from, to, step, allocationMillis, maxGapMillis, prices, profiles);
    // A sample covers the time before it: read maxGap beyond both ends.
    Future<Void> samples =
        stream(
            MongoStore.GPU_METRICS,
            range(from - maxGapMillis, to + maxGapMillis),
            new JsonObject()
                .put("gpu_uuid", 1)
                .put("ts", 1)
                .put("gpu_model", 1)
                .put("model", 1)
                .put("energy_mj", 1)
                .put("power_w", 1),
            d ->
                calc.addSample(
                    new UsageCalculator.Sample(
                        d.getString("gpu_uuid"),
                        millis(d.getValue("ts")),
                        d.getString("gpu_model"),
                        d.getString("model"),
                        d.getValue("energy_mj") instanceof Number n ? n.longValue() : null,
                        d.getValue("power_w") instanceof Number p ? p.doubleValue() : 0)));
    Future<Void> tokens =
        stream(
            MongoStore.TOKEN_USAGE,
            range(from, to),
            new JsonObject()
                .put("ts", 1)
                .put("model", 1)
                .put("tenant", 1)
                .put("input_tokens", 1)
                .put("output_tokens", 1),
            d ->
                calc.addTokens(
                    millis(d.getValue("ts")),
                    d.getString("model"),
                    d.getString("tenant"),
                    d.getLong("input_tokens", 0L),
                    d.getLong("output_tokens", 0L)));
    // The allocation is CPU work proportional to the range: off the event loop.
    return Future.all(samples, tokens)
        .compose(v -> vertx.executeBlocking(() -> calc.report(groupBy), false));
  }

  private static JsonObject range(long from, long to) {
    return new JsonObject()
        .put(
            "ts",
            new JsonObject()
                .put("$gte", new JsonObject().put("$date", Instant.ofEpochMilli(from).toString()))
                .put("$lt", new JsonObject().put("$date", Instant.ofEpochMilli(to).toString())));
  }

  private Future<Void> stream(
      String collection, JsonObject query, JsonObject fields, Consumer<JsonObject> sink) {
    Promise<Void> p = Promise.promise();
    ReadStream<JsonObject> s =
        mongo.findBatchWithOptions(
            collection, query, new FindOptions().setFields(fields).setBatchSize(5000));
    s.exceptionHandler(p::tryFail).endHandler(v -> p.tryComplete()).handler(sink::accept);
    return p.future();
  }

  public static long millis(Object v) {
    if (v instanceof JsonObject j) {
      return Instant.parse(j.getString("$date")).toEpochMilli();
    }
    if (v instanceof Instant i) {
      return i.toEpochMilli();
    }
    return Instant.parse(String.valueOf(v)).toEpochMilli();
  }
}
