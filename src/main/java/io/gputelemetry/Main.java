package io.gputelemetry;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.ConfigException;
import io.gputelemetry.config.Settings;
import io.gputelemetry.verify.Verifier;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Command line: parse options into settings, set up logging, run a role or the verify command. */
public final class Main {
  static final String USAGE =
      """
      Usage: java -jar gpu-telemetry.jar [verify] [options]

      GPU and LLM-token telemetry pipeline. One jar, three roles:
        standalone  embedded Kafka broker + embedded MongoDB-wire store + producer + processor (default)
        producer    simulator / HTTP ingest (JSON, LiteLLM, CloudEvents, OTLP) / DCGM and vLLM scrapes /
                    nvidia-smi -> Kafka gpu.metrics.v1, token.usage.v1
        processor   Kafka (group 'processor') -> MongoDB, metrics, query API and the web console

      Commands:
        (none)      run the role
        verify      check a running deployment (Kafka, topics, MongoDB, indexes, lag, completeness,
                    each source target answering, parsing, its last success recent);
                    prints PASS/FAIL per check, exits 1 on any FAIL
        keys hash --id ID --scopes S1,S2 [--tenant T | --nodes N1,N2]
                    read an API key on stdin, print its line for auth.keys-file (the key's SHA-256,
                    never the key); scopes: ingest:tokens, ingest:gpu, read, metrics

      Options:
        --role ROLE           producer | processor | standalone (setting: role)
        --config FILE         a properties file of settings (see conf/gpu-telemetry.properties)
        --data-dir DIR        standalone: keep the broker log and the store here across restarts
        --duration D          simulator: stop after D (e.g. 30s, 5m), then exit once all is stored
        --count N             simulator: stop after N token-usage events
        --keep-serving        after a bounded run (--duration, --count), keep serving the API and the
                              console once all is stored instead of exiting
                              (setting: simulator.exit-when-done=false)
        --rate R              simulator: token-usage requests per second (Poisson mean)
        --seed N              simulator: random seed
        --no-simulator        do not run the simulator
        --source KIND=URL     read a real source (repeatable): dcgm=URL scrapes an NVIDIA DCGM
                              exporter (e.g. dcgm=http://gpu-node-01:9400/metrics); vllm=URL a vLLM
                              or NIM server's token counters (e.g. vllm=http://10.0.3.7:8000/metrics);
                              nvidia-smi[=PATH] runs nvidia-smi on this host; any --source turns the
                              simulator off unless --simulator is given (settings:
                              sources.dcgm.targets, sources.vllm.targets, sources.nvidia-smi.*).
                              Exporters can also be discovered, through DNS (sources.KIND.dns.names)
                              or the Kubernetes API (sources.KIND.kubernetes.namespaces), with --set
                              or GPUTEL_*; see docs/sources.md
        --simulator           run the simulator even with --source
        --http-port P         HTTP port; 0 picks a free one (printed)
        --kafka SERVERS       Kafka bootstrap servers (setting: kafka.bootstrap.servers)
        --mongo URI           MongoDB connection string (setting: mongo.connection-string)
        --log-format F        text | json
        --log-level L         trace | debug | info | warn | error
        --set KEY=VALUE       any setting, e.g. --set kafka.topic.partitions=12 (or --set=KEY=VALUE)
        --print-config        print the effective settings (secrets masked) and exit
        -h, --help            this help
        --version             print the version

      Every setting can also come from the environment: GPUTEL_ + the key in upper case with '.' and
      '-' as '_' (http.port -> GPUTEL_HTTP_PORT). Precedence: flags > environment > --config > defaults.
      """;

  private static final Map<String, String> FLAG_KEYS =
      Map.ofEntries(
          Map.entry("--role", "role"),
          Map.entry("--data-dir", "data-dir"),
          Map.entry("--duration", "simulator.duration"),
          Map.entry("--count", "simulator.count"),
          Map.entry("--rate", "simulator.rate"),
          Map.entry("--seed", "simulator.seed"),
          Map.entry("--http-port", "http.port"),
          Map.entry("--kafka", "kafka.bootstrap.servers"),
          Map.entry("--mongo", "mongo.connection-string"),
          Map.entry("--log-format", "log.format"),
          Map.entry("--log-level", "log.level"));

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), System.out, System.err));
  }

  /** Parsed command line. */
  record Command(
      boolean verify,
      boolean help,
      boolean version,
      boolean printConfig,
      Path configFile,
      Map<String, String> overrides) {}

  static Command parse(List<String> args) {
    boolean verify = false;
    boolean help = false;
    boolean version = false;
    boolean print = false;
    Path config = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    List<String> dcgm = new java.util.ArrayList<>();
    List<String> vllm = new java.util.ArrayList<>();
    boolean simulator = false;
    boolean sourced = false;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        // --flag=value; for --set=KEY=VALUE the value is KEY=VALUE.
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      switch (a) {
        case "verify" -> verify = true;
        case "-h", "--help" -> help = true;
        case "--version" -> version = true;
        case "--print-config" -> print = true;
        case "--no-simulator" -> overrides.put("simulator.enabled", "false");
        case "--keep-serving" -> overrides.put("simulator.exit-when-done", "false");
        case "--simulator" -> simulator = true;
        case "--source" -> {
          String spec = value != null ? value : next(args, ++i, a);
          int e = spec.indexOf('=');
          String kind = e > 0 ? spec.substring(0, e).trim() : spec.trim();
          String rest = e > 0 ? spec.substring(e + 1).trim() : "";
          if (kind.equals("nvidia-smi")) {
            // --source nvidia-smi, or nvidia-smi=PATH to the binary
            overrides.put("sources.nvidia-smi.enabled", "true");
            if (!rest.isEmpty()) {
              overrides.put("sources.nvidia-smi.path", rest);
            }
            sourced = true;
          } else if ((kind.equals("dcgm") || kind.equals("vllm")) && !rest.isEmpty()) {
            (kind.equals("dcgm") ? dcgm : vllm).add(rest);
          } else {
            throw new ConfigException(
                "--source expects KIND=URL with KIND dcgm or vllm (e.g. --source"
                    + " dcgm=http://gpu-node-01:9400/metrics, --source"
                    + " vllm=http://10.0.3.7:8000/metrics), or nvidia-smi[=PATH], got '"
                    + spec
                    + "'");
          }
        }
        case "--config" -> {
          config = Path.of(value != null ? value : next(args, ++i, a));
          if (!Files.isReadable(config)) {
            throw new ConfigException("--config " + config + ": no such readable file");
          }
        }
        case "--set" -> {
          String kv = value != null ? value : next(args, ++i, a);
          int e = kv.indexOf('=');
          if (e <= 0) {
            throw new ConfigException("--set expects KEY=VALUE, got '" + kv + "'");
          }
          overrides.put(kv.substring(0, e).trim(), kv.substring(e + 1));
        }
        default -> {
          String key = FLAG_KEYS.get(a);
          if (key == null) {
            throw new ConfigException("unknown option '" + a + "' (see --help)");
          }
          overrides.put(key, value != null ? value : next(args, ++i, a));
        }
      }
    }
    if (!vllm.isEmpty()) {
      overrides.put("sources.vllm.targets", String.join(",", vllm));
    }
    if (!dcgm.isEmpty()) {
      overrides.put("sources.dcgm.targets", String.join(",", dcgm));
    }
    if ((sourced || !dcgm.isEmpty() || !vllm.isEmpty()) && !simulator) {
      overrides.putIfAbsent("simulator.enabled", "false");
    }
    if (simulator) {
      overrides.put("simulator.enabled", "true");
    }
    return new Command(verify, help, version, print, config, overrides);
  }

  private static String next(List<String> args, int i, String flag) {
    if (i >= args.size()) {
      throw new ConfigException(flag + " needs a value (see --help)");
    }
    return args.get(i);
  }

  static int run(String[] argv, Map<String, String> env, PrintStream out, PrintStream err) {
    return run(argv, env, System.in, out, err);
  }

  static int run(
      String[] argv, Map<String, String> env, InputStream in, PrintStream out, PrintStream err) {
    if (argv.length > 0 && argv[0].equals("keys")) {
      try {
        out.println(KeysCommand.run(List.of(argv).subList(1, argv.length), in));
        return 0;
      } catch (ConfigException e) {
        err.println("gpu-telemetry keys: " + e.getMessage());
        return 2;
      }
    }
    AppConfig config;
    Command cmd;
    try {
      cmd = parse(List.of(argv));
      if (cmd.help()) {
        out.print(USAGE);
        return 0;
      }
      if (cmd.version()) {
        out.println("gpu-telemetry " + Version.get());
        return 0;
      }
      Settings settings = Settings.load(cmd.configFile(), env, cmd.overrides());
      config = AppConfig.from(settings);
      if (cmd.printConfig()) {
        out.print(settings);
        return 0;
      }
    } catch (ConfigException e) {
      err.println("gpu-telemetry: " + e.getMessage());
      return 2;
    }
    configureLogging(
        config, cmd.verify() ? "verify" : config.role().name().toLowerCase(Locale.ROOT));
    try {
      if (cmd.verify()) {
        return new Verifier(config, out).run();
      }
      return Application.runUntilStopped(config);
    } catch (ConfigException e) {
      err.println("gpu-telemetry: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      err.println("gpu-telemetry: " + e);
      return 1;
    }
  }

  /** Must run before the first logger is created. */
  static void configureLogging(AppConfig config, String role) {
    System.setProperty("gputel.role", role);
    System.setProperty("gputel.log.level", config.log().level());
    if (config.log().format() == AppConfig.LogFormat.JSON) {
      System.setProperty("log4j2.configurationFile", "log4j2-json.xml");
    }
    System.setProperty(
        "vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
  }
}
