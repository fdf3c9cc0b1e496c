package io.gputelemetry.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The budgets file as docs/budgets.schema.json states it: the example conforms and loads, and what
 * the schema refuses the loader refuses, naming the entry and the field.
 */
class BudgetsTest {
  private static JsonSchema schema() throws Exception {
    SchemaValidatorsConfig cfg =
        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(Files.readString(Path.of("docs/budgets.schema.json")), cfg);
  }

  @Test
  void theExampleFileConformsAndLoads() throws Exception {
    Path example = Path.of("conf/budgets.json");
    assertEquals(0, schema().validate(Json.MAPPER.readTree(example.toFile())).size());
    Budgets b = Budgets.load(example);
    assertEquals(
        List.of(new Budgets.Budget("acme", 5000, 1200.0), new Budgets.Budget("globex", 800, null)),
        List.copyOf(b.all()));
    assertNull(b.of("initech"));
  }

  @Test
  void noFileMeansNoBudgets() {
    assertTrue(Budgets.load(null).isEmpty());
  }

  @Test
  void whatTheSchemaRefusesTheLoaderRefusesNamingTheField() throws Exception {
    String[][] cases = {
      {"{}", "\"budgets\" must be an array"},
      {"{\"budgets\": {}}", "\"budgets\" must be an array"},
      {"{\"budget\": []}", "unknown field 'budget'"},
      {"{\"budgets\": [{\"monthly_usd\": 10}]}", "budgets[0].tenant must be"},
      {"{\"budgets\": [{\"tenant\": \"\", \"monthly_usd\": 10}]}", "budgets[0].tenant must be"},
      {"{\"budgets\": [{\"tenant\": \"a b\", \"monthly_usd\": 10}]}", "budgets[0].tenant must be"},
      {"{\"budgets\": [{\"tenant\": \"a\"}]}", "budgets[0].monthly_usd is required"},
      {"{\"budgets\": [{\"tenant\": \"a\", \"monthly_usd\": 0}]}", "budgets[0].monthly_usd must"},
      {"{\"budgets\": [{\"tenant\": \"a\", \"monthly_usd\": \"10\"}]}", "monthly_usd must"},
      {
        "{\"budgets\": [{\"tenant\": \"a\", \"monthly_usd\": 1},"
            + " {\"tenant\": \"b\", \"monthly_usd\": 1, \"monthly_kwh\": -2}]}",
        "budgets[1].monthly_kwh must be a number above 0, not -2"
      },
      {
        "{\"budgets\": [{\"tenant\": \"a\", \"monthly_usd\": 1, \"monthly_eur\": 1}]}",
        "budgets[0]: unknown field 'monthly_eur'"
      }
    };
    for (String[] c : cases) {
      JsonNode doc = Json.MAPPER.readTree(c[0]);
      assertFalse(schema().validate(doc).isEmpty(), "the schema refuses " + c[0]);
      ConfigException e =
          assertThrows(ConfigException.class, () -> Budgets.parse(doc, "budgets.json"), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
    }
  }

  @Test
  void aTenantWithTwoBudgetsIsRefused() throws Exception {
    JsonNode doc =
        Json.MAPPER.readTree(
            "{\"budgets\": [{\"tenant\": \"a\", \"monthly_usd\": 1},"
                + " {\"tenant\": \"a\", \"monthly_usd\": 2}]}");
    ConfigException e =
        assertThrows(ConfigException.class, () -> Budgets.parse(doc, "budgets.json"));
    assertTrue(
        e.getMessage().contains("budgets[1].tenant 'a' has a budget already"), e.getMessage());
  }

  @Test
  void anUnreadableFileNamesTheSetting(@TempDir Path dir) throws Exception {
    Path bad = Files.writeString(dir.resolve("b.json"), "{not json");
    ConfigException e = assertThrows(ConfigException.class, () -> Budgets.load(bad));
    assertTrue(e.getMessage().startsWith("setting 'budgets.file'"), e.getMessage());
  }
}
