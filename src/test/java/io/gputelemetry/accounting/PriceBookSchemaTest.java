package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import io.gputelemetry.support.AccountingFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The price book's format as docs/price-book.schema.json states it: the shipped book and the tests'
 * book conform, and what the schema refuses the loader refuses too.
 */
class PriceBookSchemaTest {
  private static JsonSchema schema() throws Exception {
    SchemaValidatorsConfig cfg =
        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(Files.readString(Path.of("docs/price-book.schema.json")), cfg);
  }

  private static Set<ValidationMessage> check(JsonNode book) throws Exception {
    return schema().validate(book);
  }

  @Test
  void theShippedPriceBookAndTheTestsBookConform(@TempDir Path dir) throws Exception {
    assertEquals(
        Set.of(), check(Json.MAPPER.readTree(Path.of(PriceBook.RESOURCE).toFile())), "shipped");
    Path fixture = new AccountingFixture(Instant.parse("2026-11-28T10:00:00Z")).writePriceBook(dir);
    assertEquals(Set.of(), check(Json.MAPPER.readTree(fixture.toFile())), "the tests' book");
    Path contracts = Path.of("conf/price-book.contracts-example.json");
    assertEquals(Set.of(), check(Json.MAPPER.readTree(contracts.toFile())), "the contract example");
    PriceBook loaded = PriceBook.load(contracts);
    long t = Instant.parse("2026-06-01T00:00:00Z").toEpochMilli();
    assertEquals(3.78, loaded.appliedAt("H100-SXM-80GB", "res-3", t).usdPerHour());
    assertEquals(6.88, loaded.appliedAt("H100-SXM-80GB", "res-3", t).listUsdPerHour());
    assertEquals(4.47, loaded.appliedAt("H100-SXM-80GB", "gpu-node-01", t).usdPerHour());
    assertEquals(2.41, loaded.appliedAt("H100-SXM-80GB", "spot-a", t).usdPerHour());
    assertEquals(6.88, loaded.appliedAt("H100-SXM-80GB", "sim-node-01", t).usdPerHour());
  }

  @Test
  void whatTheSchemaRefusesTheLoaderRefuses() throws Exception {
    for (String bad :
        new String[] {
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\":"
              + " \"2026-01-01T00:00:00Z\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": -1}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"yesterday\","
              + " \"usd_per_hour\": 1}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1}]}",
          "{\"gpu_hourly\": [{\"effective_from\": \"2026-01-01T00:00:00Z\", \"usd_per_hour\": 1}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"price_kind\": \"reserved\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"nodes\": []}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"nodes\": [\"gpu node\"]}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"price_kind\": \"committed\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"price_kind\": \"spot\", \"commitment_id\": \"ri-1\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"commitment_name\": \"a plan\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"price_kind\": \"committed\", \"commitment_id\": \"ri-1\","
              + " \"commitment_category\": \"usage\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"kind\": \"spot\"}]}",
          "{\"gpu_hourly\": [{\"gpu_model\": \"GA\", \"effective_from\": \"2026-01-01T00:00:00Z\","
              + " \"usd_per_hour\": 1, \"effective_to\": \"tomorrow\"}]}"
        }) {
      JsonNode book = Json.MAPPER.readTree(bad);
      assertFalse(check(book).isEmpty(), "the schema refuses " + bad);
      assertThrows(ConfigException.class, () -> PriceBook.parse(book, "test"), bad);
    }
  }
}
