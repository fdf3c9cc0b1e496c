package io.gputelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return Main.run(
        args,
        env,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private int runWithStdin(String stdin, String... args) {
    return Main.run(
        args,
        Map.of(),
        new java.io.ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void keysHashPrintsTheKeyFileLineOfTheKeyOnStdinAndNeverTheKey() {
    assertEquals(
        0,
        runWithStdin(
            "alpha-key-0123456789\n",
            "keys",
            "hash",
            "--id",
            "acme-reader",
            "--scopes",
            "read",
            "--tenant",
            "acme"));
    // printf %s alpha-key-0123456789 | sha256sum
    assertEquals(
        "acme-reader:c0dcc758f85e141df105b3bb5a3612c123f82ce299c6ac130c7b3a871422ab10:read"
            + ":tenant=acme\n",
        out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void keysHashRefusesAnUnknownScopeAndAnEmptyStdin() {
    assertEquals(
        2, runWithStdin("alpha-key-0123456789\n", "keys", "hash", "--id", "a", "--scopes", "all"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown scope 'all'"));
    assertEquals(2, runWithStdin("", "keys", "hash", "--id", "a", "--scopes", "read"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("no key on stdin"));
    assertTrue(
        !err.toString(StandardCharsets.UTF_8).contains("alpha-key"), "the key is never echoed");
  }

  @Test
  void unknownOptionExitsTwoWithAHint() {
    assertEquals(2, run(Map.of(), "--rol", "producer"));
    assertTrue(
        err.toString(StandardCharsets.UTF_8).contains("unknown option '--rol' (see --help)"));
  }

  @Test
  void sourceFlagsAddTargetsAndTurnTheSimulatorOffUnlessAskedFor() {
    Main.Command c =
        Main.parse(
            java.util.List.of(
                "--source", "dcgm=http://a:9400/metrics", "--source=dcgm=http://b:9400/metrics"));
    assertEquals(
        "http://a:9400/metrics,http://b:9400/metrics", c.overrides().get("sources.dcgm.targets"));
    assertEquals("false", c.overrides().get("simulator.enabled"));
    assertEquals(
        "true",
        Main.parse(java.util.List.of("--source", "dcgm=http://a:9400/metrics", "--simulator"))
            .overrides()
            .get("simulator.enabled"));
    Main.Command v =
        Main.parse(
            java.util.List.of(
                "--source",
                "vllm=http://v:8000/metrics|tenant=acme",
                "--source",
                "vllm=http://w:8000/v1/metrics"));
    assertEquals(
        "http://v:8000/metrics|tenant=acme,http://w:8000/v1/metrics",
        v.overrides().get("sources.vllm.targets"));
    assertEquals(null, v.overrides().get("sources.dcgm.targets"));
    assertEquals("false", v.overrides().get("simulator.enabled"), "a vLLM source alone too");
    assertEquals(2, run(Map.of(), "--source", "sglang=http://a:30000/metrics"));
    assertTrue(
        err.toString(StandardCharsets.UTF_8)
            .contains("--source expects KIND=URL with KIND dcgm or vllm"));
  }

  @Test
  void sourceNvidiaSmiTurnsTheChildOnWithItsPathAndTheSimulatorOff() {
    Main.Command plain = Main.parse(java.util.List.of("--source", "nvidia-smi"));
    assertEquals("true", plain.overrides().get("sources.nvidia-smi.enabled"));
    assertEquals(null, plain.overrides().get("sources.nvidia-smi.path"));
    assertEquals("false", plain.overrides().get("simulator.enabled"));
    Main.Command path = Main.parse(java.util.List.of("--source=nvidia-smi=/usr/bin/nvidia-smi"));
    assertEquals("/usr/bin/nvidia-smi", path.overrides().get("sources.nvidia-smi.path"));
    assertEquals(2, run(Map.of(), "--source", "dcgm"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("got 'dcgm'"));
  }

  @Test
  void aTargetSpecGivesItsIntervalTimeoutAndLabelsAndABadOneIsNamed() {
    io.gputelemetry.config.AppConfig.Target t =
        io.gputelemetry.config.AppConfig.from(
                io.gputelemetry.config.Settings.load(
                    null,
                    Map.of(
                        "GPUTEL_SOURCES_DCGM_TARGETS",
                        "http://10.0.0.5:9400/metrics|node=gpu-node-01|interval=15s|timeout=5s"),
                    Map.of()))
            .sources()
            .targets()
            .get(0);
    assertEquals("http://10.0.0.5:9400/metrics", t.url());
    assertEquals(java.time.Duration.ofSeconds(15), t.interval());
    assertEquals(java.time.Duration.ofSeconds(5), t.timeout());
    assertEquals(Map.of("node", "gpu-node-01"), t.labels());
    assertEquals(
        2, run(Map.of("GPUTEL_SOURCES_DCGM_TARGETS", "ftp://x/metrics"), "--print-config"));
    assertTrue(
        err.toString(StandardCharsets.UTF_8)
            .contains(
                "setting 'sources.dcgm.targets' (env GPUTEL_SOURCES_DCGM_TARGETS): expected"
                    + " http:// or https:// URLs, got 'ftp://x/metrics'"),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void missingValueIsReported() {
    assertEquals(2, run(Map.of(), "--role"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--role needs a value"));
  }

  @Test
  void badEnvironmentValueNamesTheVariable() {
    assertEquals(2, run(Map.of("GPUTEL_HTTP_PORT", "99999"), "--print-config"));
    String e = err.toString(StandardCharsets.UTF_8);
    assertTrue(e.contains("GPUTEL_HTTP_PORT") && e.contains("from 0 to 65535"), e);
  }

  @Test
  void printConfigShowsEffectiveSettings() {
    assertEquals(
        0,
        run(Map.of(), "--role=processor", "--set", "kafka.topic.partitions=12", "--print-config"));
    String o = out.toString(StandardCharsets.UTF_8);
    assertTrue(o.contains("role=processor"), o);
    assertTrue(o.contains("kafka.topic.partitions=12"), o);
  }

  @Test
  void keepServingTurnsExitWhenDoneOff() {
    assertEquals(
        "false", Main.parse(List.of("--keep-serving")).overrides().get("simulator.exit-when-done"));
    assertEquals(0, run(Map.of(), "--count", "10", "--keep-serving", "--print-config"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("simulator.exit-when-done=false"));
  }

  @Test
  void setTakesKeyEqualsValueAsOneArgumentToo() {
    assertEquals(
        0,
        run(
            Map.of(),
            "--set=kafka.producer.linger.ms=20",
            "--set=api.max-steps=7",
            "--print-config"));
    String o = out.toString(StandardCharsets.UTF_8);
    assertTrue(o.contains("kafka.producer.linger.ms=20"), o);
    assertTrue(o.contains("api.max-steps=7"), o);
  }

  @Test
  void setWithoutAnEqualsSignIsRefusedWithTheReason() {
    assertEquals(2, run(Map.of(), "--set=api.max-steps"));
    assertTrue(
        err.toString(StandardCharsets.UTF_8)
            .contains("--set expects KEY=VALUE, got 'api.max-steps'"));
  }
}
