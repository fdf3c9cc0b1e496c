package io.gputelemetry.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.config.ConfigException;
import io.gputelemetry.producer.FleetSimulator;
import io.gputelemetry.source.DcgmMapping;
import io.gputelemetry.source.NvidiaSmiCsv;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyFileTest {
  /** SHA-256 of "alpha-key-0123456789": `printf %s alpha-key-0123456789 | sha256sum`. */
  private static final String ALPHA =
      "c0dcc758f85e141df105b3bb5a3612c123f82ce299c6ac130c7b3a871422ab10";

  private static String hash(String key) {
    return HexFormat.of().formatHex(KeyFile.sha256(key));
  }

  private static String error(String... lines) {
    return assertThrows(ConfigException.class, () -> KeyFile.parse(List.of(lines), "keys.txt"))
        .getMessage();
  }

  @Test
  void readsScopesAndBindingsSkippingCommentsAndBlankLines() {
    List<ApiKey> keys =
        KeyFile.parse(
            List.of(
                "# gateways and readers",
                "",
                "gw:" + hash("gateway-key-0123456789") + ":ingest:tokens,ingest:gpu",
                "acme-read:" + hash("acme-read-key-01234") + ":read,ingest:tokens:tenant=acme",
                "  agent-1:" + hash("agent-key-0123456789") + ":ingest:gpu:nodes=node-a,node:b  ",
                "prom:" + hash("prom-key-0123456789") + ":metrics"),
            "keys.txt");
    assertEquals(4, keys.size());
    Principal gw = keys.get(0).principal();
    assertEquals("gw", gw.id());
    assertEquals(EnumSet.of(Scope.INGEST_TOKENS, Scope.INGEST_GPU), gw.scopes());
    assertNull(gw.tenant());
    Principal acme = keys.get(1).principal();
    assertEquals(EnumSet.of(Scope.READ, Scope.INGEST_TOKENS), acme.scopes());
    assertEquals("acme", acme.tenant());
    Principal agent = keys.get(2).principal();
    assertEquals(Set.of("node-a", "node:b"), agent.nodes(), "node names may hold ':'");
    assertTrue(agent.mayWriteNode("node:b"));
    assertFalse(agent.mayWriteNode("node-c"));
    assertEquals(EnumSet.of(Scope.METRICS), keys.get(3).principal().scopes());
  }

  @Test
  void theLineOfAKeyHoldsTheSha256OfItsUtf8BytesNeverTheKey() {
    String line = KeyFile.line("a", "alpha-key-0123456789", "read", "tenant=acme");
    assertEquals("a:" + ALPHA + ":read:tenant=acme", line);
    assertFalse(line.contains("alpha-key"));
  }

  @Test
  void badLinesNameTheFileTheLineAndWhatIsWrong() {
    String h = hash("some-key-0123456789");
    assertEquals(
        "keys.txt line 2: expected ID:SHA256:SCOPES[:tenant=NAME|:nodes=N1,N2] (fewer than 3"
            + " fields)",
        error("# one", "just-a-key-0123456789"));
    assertEquals(
        "keys.txt line 1: key 'k': the second field must be the 64 hex digits of the key's SHA-256"
            + " (`keys hash` prints it), not the key",
        error("k:not-a-hash-0123456789:read"));
    assertEquals(
        "keys.txt line 1: key 'k': unknown scope 'write' (one of ingest:tokens, ingest:gpu, read,"
            + " metrics)",
        error("k:" + h + ":read,write"));
    assertEquals(
        "keys.txt line 1: id 'a/b' must be 1-64 letters, digits, '.', '_' or '-'",
        error("a/b:" + h + ":read"));
    assertTrue(
        error("k:" + h + ":metrics:tenant=acme")
            .startsWith("keys.txt line 1: key 'k': a tenant binding applies to"));
    assertEquals(
        "keys.txt line 1: key 'k': a nodes binding applies to a key of scope ingest:gpu alone",
        error("k:" + h + ":read,ingest:gpu:nodes=n1"));
    assertEquals(
        "keys.txt line 1: key 'k': 'bad node' is not a node name",
        error("k:" + h + ":ingest:gpu:nodes=n1,bad node"));
    assertEquals(
        "keys.txt line 1: key 'k': unknown scope '' (one of ingest:tokens, ingest:gpu, read,"
            + " metrics)",
        error("k:" + h + ":"));
  }

  @Test
  void duplicateIdsAndDuplicateKeysAreRefusedWithBothLines() {
    String h = hash("some-key-0123456789");
    assertEquals(
        "keys.txt line 3: duplicate id 'k' (first on line 1)",
        error("k:" + h + ":read", "", "k:" + hash("other-key-0123456789") + ":metrics"));
    assertEquals(
        "keys.txt line 2: the same key as on line 1 (each key once)",
        error("k:" + h + ":read", "j:" + h.toUpperCase() + ":metrics"));
  }

  @Test
  void theWritersOfTheProducersOwnSourcesAreNoKeyIds() {
    // A key named like a source would write samples in that source's id scope, and could pre-empt
    // them: its id is refused.
    assertEquals(
        Set.of(FleetSimulator.WRITER, DcgmMapping.WRITER, NvidiaSmiCsv.WRITER),
        KeyFile.RESERVED_IDS);
    String h = hash("some-key-0123456789");
    assertEquals(
        "keys.txt line 1: id 'dcgm' is reserved for the producer's own sources ("
            + KeyFile.RESERVED_IDS
            + ")",
        error("dcgm:" + h + ":ingest:gpu"));
    assertTrue(error("simulator:" + h + ":ingest:gpu").contains("id 'simulator' is reserved"));
  }

  @Test
  void anErrorNeverEchoesTheHashField() {
    String secret = "my-secret-key-pasted-by-mistake";
    String message = error("k:" + secret + ":read");
    assertFalse(message.contains(secret), message);
  }

  @Test
  void theShorthandMakesIngestKeysWithStableIds() {
    List<ApiKey> keys =
        KeyFile.shorthand(
            new java.util.LinkedHashMap<>(
                Map.of("gateway-key-0123456789", "", "tenant-key-0123456789", "acme")));
    ApiKey gw = keys.stream().filter(k -> k.principal().tenant() == null).findFirst().orElseThrow();
    ApiKey bound =
        keys.stream().filter(k -> k.principal().tenant() != null).findFirst().orElseThrow();
    assertEquals("key-" + hash("gateway-key-0123456789").substring(0, 12), gw.id());
    assertEquals(EnumSet.of(Scope.INGEST_TOKENS, Scope.INGEST_GPU), gw.principal().scopes());
    assertEquals(EnumSet.of(Scope.INGEST_TOKENS), bound.principal().scopes());
    assertEquals("acme", bound.principal().tenant());
  }

  @Test
  void keyRingMatchesTheKeyAndRefusesAWrongOne() {
    KeyRing ring =
        new KeyRing(
            KeyFile.parse(
                List.of(
                    "r:" + hash("reader-key-0123456789") + ":read:tenant=acme",
                    "m:" + hash("metrics-key-0123456789") + ":metrics"),
                "keys.txt"),
            EnumSet.noneOf(Scope.class));
    assertFalse(ring.open());
    Principal r = ring.authenticate("Bearer reader-key-0123456789");
    assertEquals("r", r.id());
    assertEquals("acme", r.tenant());
    assertEquals("m", ring.authenticate("bearer  metrics-key-0123456789 ").id());
    assertNull(ring.authenticate("Bearer reader-key-0123456780"));
    assertNull(ring.authenticate("Basic cmVhZGVyOmtleQ=="));
    Principal none = ring.authenticate(null);
    assertFalse(none.identified());
    assertTrue(none.scopes().isEmpty());
    assertFalse(ring.describe().contains(hash("reader-key-0123456789")));
  }

  @Test
  void anEmptyKeyRingIsOpenAndAnonymousScopesApplyOnlyWithKeys() {
    assertSame(Principal.OPEN, new KeyRing(List.of(), Set.of()).authenticate(null));
    KeyRing ring =
        new KeyRing(
            KeyFile.parse(List.of("r:" + hash("reader-key-0123456789") + ":read"), "f"),
            EnumSet.of(Scope.METRICS));
    assertEquals(EnumSet.of(Scope.METRICS), ring.authenticate(null).scopes());
  }

  @Test
  void theStartUpLineNamesTwentyKeysAndCountsTheRest() {
    List<String> lines = new java.util.ArrayList<>();
    for (int i = 0; i < 25; i++) {
      lines.add("k" + i + ":" + hash("key-number-" + i + "-0123456789") + ":read");
    }
    String line = new KeyRing(KeyFile.parse(lines, "f"), Set.of()).describe();
    assertTrue(line.startsWith("25 API keys (k0 [read], k1 [read]"), line);
    assertTrue(line.contains("k19 [read], and 5 more); without a key: open routes only"), line);
    assertFalse(line.contains("k20 "), line);
  }

  @Test
  void theSameKeyInTheFileAndTheShorthandIsRefused() {
    List<ApiKey> both =
        new java.util.ArrayList<>(
            KeyFile.parse(List.of("r:" + hash("reader-key-0123456789") + ":read"), "f"));
    both.addAll(KeyFile.shorthand(Map.of("reader-key-0123456789", "")));
    ConfigException e = assertThrows(ConfigException.class, () -> new KeyRing(both, Set.of()));
    assertTrue(e.getMessage().contains("are the same key"), e.getMessage());
  }

  @Test
  void theKeysHashLineRefusesShortKeys() {
    assertThrows(ConfigException.class, () -> KeyFile.line("a", "short", "read", null));
  }
}
