package io.gputelemetry.accounting;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hourly GPU prices with effective-from instants (conf/price-book.json). A price applies from its
 * instant until the next one of the same GPU model; before the first there is no price
 * ("unpriced").
 */
public final class PriceBook {
  public static final String RESOURCE = "conf/price-book.json";

  /** A price in force from an instant. */
  public record Price(long fromMillis, double usdPerHour) {}

  /** A model's public list price per 1M tokens, for comparison only. */
  public record ListPrice(double inputUsdPer1m, double outputUsdPer1m) {}

  /** Cost of a span and how much of it had no price. */
  public record Integral(double costUsd, long unpricedMillis) {}

  private final Map<String, List<Price>> prices;
  private final Map<String, ListPrice> listPrices;

  public PriceBook(Map<String, List<Price>> prices, Map<String, ListPrice> listPrices) {
    Map<String, List<Price>> sorted = new HashMap<>();
    prices.forEach(
        (k, v) -> {
          List<Price> l = new ArrayList<>(v);
          l.sort(Comparator.comparingLong(Price::fromMillis));
          sorted.put(k, List.copyOf(l));
        });
    this.prices = Map.copyOf(sorted);
    this.listPrices = Map.copyOf(listPrices);
  }

  /** The GPU models the book prices (at some time). */
  public Set<String> gpuModels() {
    return prices.keySet();
  }

  /** The built-in book, or the file given by pricing.price-book. */
  public static PriceBook load(Path file) {
    try (InputStream in =
        file == null
            ? PriceBook.class.getClassLoader().getResourceAsStream(RESOURCE)
            : Files.newInputStream(file)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the classpath");
      }
      return parse(Json.MAPPER.readTree(in), file == null ? RESOURCE : file.toString());
    } catch (IOException e) {
      throw new ConfigException(
          "setting 'pricing.price-book': cannot read " + file + ": " + e.getMessage());
    }
  }

  static PriceBook parse(JsonNode root, String where) {
    Map<String, List<Price>> prices = new HashMap<>();
    for (JsonNode p : root.path("gpu_hourly")) {
      String model = p.path("gpu_model").asText("");
      double usd = p.path("usd_per_hour").asDouble(-1);
      Instant from;
      try {
        from = Instant.parse(p.path("effective_from").asText(""));
      } catch (DateTimeParseException e) {
        throw new ConfigException(
            where
                + ": gpu_hourly entry for '"
                + model
                + "' needs effective_from as an RFC 3339 UTC instant");
      }
      if (model.isEmpty() || !(usd >= 0)) {
        throw new ConfigException(
            where + ": every gpu_hourly entry needs gpu_model and a non-negative usd_per_hour");
      }
      prices
          .computeIfAbsent(model, k -> new ArrayList<>())
          .add(new Price(from.toEpochMilli(), usd));
    }
    Map<String, ListPrice> lists = new HashMap<>();
    for (JsonNode l : root.path("model_list_prices")) {
      lists.put(
          l.path("model").asText(),
          new ListPrice(
              l.path("input_usd_per_1m").asDouble(), l.path("output_usd_per_1m").asDouble()));
    }
    return new PriceBook(prices, lists);
  }

  /** USD per hour in force at {@code t}, or null when unpriced. */
  public Double priceAt(String gpuModel, long t) {
    List<Price> l = prices.get(gpuModel);
    if (l == null) {
      return null;
    }
    Double found = null;
    for (Price p : l) {
      if (p.fromMillis() <= t) {
        found = p.usdPerHour();
      } else {
        break;
      }
    }
    return found;
  }

  /** Instants in (a, b) where the GPU model's price changes. */
  public List<Long> changesBetween(String gpuModel, long a, long b) {
    List<Long> out = new ArrayList<>();
    for (Price p : prices.getOrDefault(gpuModel, List.of())) {
      if (p.fromMillis() > a && p.fromMillis() < b) {
        out.add(p.fromMillis());
      }
    }
    return out;
  }

  /** Cost of running one GPU of the model over [a, b), split at price changes. */
  public Integral integrate(String gpuModel, long a, long b) {
    double cost = 0;
    long unpriced = 0;
    long start = a;
    List<Long> cuts = new ArrayList<>(changesBetween(gpuModel, a, b));
    cuts.add(b);
    for (long end : cuts) {
      Double p = priceAt(gpuModel, start);
      if (p == null) {
        unpriced += end - start;
      } else {
        cost += p * (end - start) / 3_600_000.0;
      }
      start = end;
    }
    return new Integral(cost, unpriced);
  }

  public ListPrice listPrice(String model) {
    return listPrices.get(model);
  }
}
