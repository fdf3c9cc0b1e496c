package io.gputelemetry.deploy;

import static io.gputelemetry.deploy.RenderedChart.list;
import static io.gputelemetry.deploy.RenderedChart.map;
import static io.gputelemetry.deploy.RenderedChart.selects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.Release;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Helm chart lints, renders for the defaults and every ci/*-values.yaml scenario, and what it
 * renders is well-formed Kubernetes that fits together: selectors select the pods, autoscalers
 * target the right Deployments, secrets arrive by reference only, and the schema rejects bad
 * values.
 */
class HelmChartTest {

  static final Path CHART = Paths.get("charts/gpu-telemetry");
  static final String RELEASE = "gt";
  static final String NAMESPACE = "telemetry";
  static final String FULLNAME = RELEASE + "-gpu-telemetry";
  static final String PRODUCER = FULLNAME + "-producer";
  static final String PROCESSOR = FULLNAME + "-processor";
  static final Set<String> APP_COMPONENTS = Set.of("producer", "processor", "collector");

  /**
   * Settings whose values are secrets: they may only come from secretKeyRef (or the dev in-chart
   * store).
   */
  static final Set<String> SECRET_ENV =
      Set.of(
          "GPUTEL_MONGO_CONNECTION_STRING",
          "GPUTEL_KAFKA_CLIENT_SASL_JAAS_CONFIG",
          "GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_KEY",
          "GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_CERTIFICATE_CHAIN",
          "GPUTEL_INGEST_API_KEYS");

  /** The production example, shipped inside the chart (not under ci/, which .helmignore drops). */
  static final Path PRODUCTION = CHART.resolve("values-production.yaml");

  /** Seconds the application takes to drain HTTP after SIGTERM (HttpServerVerticle). */
  static final int HTTP_DRAIN_SECONDS = 10;

  // ---------------------------------------------------------------- rendering

  static String template(Path valuesFile, Map<String, Object> sets) {
    return template(CHART, valuesFile, sets);
  }

  static String template(Path chart, Path valuesFile, Map<String, Object> sets) {
    TemplateCommand cmd = new Helm(chart).template().withName(RELEASE).withNamespace(NAMESPACE);
    if (valuesFile != null) {
      cmd = cmd.withValuesFile(valuesFile);
    }
    for (Map.Entry<String, Object> e : sets.entrySet()) {
      cmd = cmd.set(e.getKey(), e.getValue());
    }
    return cmd.call();
  }

  static RenderedChart render(Path valuesFile, Map<String, Object> sets) {
    return RenderedChart.parse(template(valuesFile, sets));
  }

  static RenderedChart render(String scenario) {
    return render(scenarioFile(scenario), Map.of());
  }

  static Path scenarioFile(String scenario) {
    return scenario.equals("production")
        ? PRODUCTION
        : CHART.resolve("ci").resolve(scenario + "-values.yaml");
  }

  /** "defaults" plus the name of every ci/NAME-values.yaml. */
  static Stream<String> scenarios() throws IOException {
    List<String> names = new ArrayList<>();
    names.add("defaults");
    try (Stream<Path> files = Files.list(CHART.resolve("ci"))) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith("-values.yaml"))
          .sorted()
          .forEach(n -> names.add(n.substring(0, n.length() - "-values.yaml".length())));
    }
    names.add("production");
    return names.stream();
  }

  static RenderedChart renderScenario(String scenario) {
    return scenario.equals("defaults") ? render(null, Map.of()) : render(scenario);
  }

  // ---------------------------------------------------------------- lint

  @Test
  void chartLintsCleanInStrictMode() {
    LintResult result = new Helm(CHART).lint().strict().call();
    List<String> problems =
        result.getMessages().stream()
            .filter(m -> !m.startsWith("[INFO]"))
            .collect(Collectors.toList());
    assertFalse(result.isFailed(), "helm lint --strict failed: " + result.getMessages());
    assertTrue(problems.isEmpty(), "helm lint reported: " + problems);
  }

  @Test
  void everyRequiredScenarioFileExists() throws IOException {
    Set<String> have = scenarios().collect(Collectors.toSet());
    for (String required :
        List.of("defaults-monitoring", "keda", "hpa", "dev-inchart", "autoscaling-off")) {
      assertTrue(
          have.contains(required), "ci/" + required + "-values.yaml is missing; have " + have);
    }
    assertTrue(Files.exists(PRODUCTION), "values-production.yaml is missing from the chart");
  }

  // ---------------------------------------------------------------- invariants of every scenario

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void everyScenarioRendersConsistentManifests(String scenario) throws IOException {
    RenderedChart chart = renderScenario(scenario);
    List<Deployment> deployments = chart.all(Deployment.class);
    assertFalse(deployments.isEmpty(), "no Deployment rendered");

    for (Deployment d : deployments) {
      checkDeployment(chart, d);
    }
    for (Service s : chart.all(Service.class)) {
      checkServiceSelectsPods(chart, s);
    }
    for (HorizontalPodAutoscaler hpa : chart.all(HorizontalPodAutoscaler.class)) {
      checkHpa(chart, hpa);
    }
    for (Map<String, Object> so : chart.custom("ScaledObject")) {
      checkScaledObject(chart, so);
    }
    for (PodDisruptionBudget pdb : chart.all(PodDisruptionBudget.class)) {
      assertTrue(
          podTemplates(chart).values().stream()
              .anyMatch(t -> selects(pdb.getSpec().getSelector(), t.getMetadata().getLabels())),
          "PodDisruptionBudget " + pdb.getMetadata().getName() + " selects no pods");
      assertTrue(
          pdb.getSpec().getMinAvailable() == null || pdb.getSpec().getMaxUnavailable() == null,
          "PDB sets both minAvailable and maxUnavailable");
    }
    for (Map<String, Object> sm : chart.custom("ServiceMonitor")) {
      checkServiceMonitor(chart, sm);
    }
    for (Map<String, Object> rule : chart.custom("PrometheusRule")) {
      checkPrometheusRule(rule);
    }
    for (NetworkPolicy np : chart.all(NetworkPolicy.class)) {
      checkNetworkPolicy(chart, np);
    }
    for (StatefulSet sts : chart.all(StatefulSet.class)) {
      String headless = sts.getSpec().getServiceName();
      Service svc = chart.one(Service.class, headless);
      assertEquals("None", svc.getSpec().getClusterIP(), "StatefulSet service must be headless");
      assertTrue(
          selects(
              svc.getSpec().getSelector(), sts.getSpec().getTemplate().getMetadata().getLabels()));
      assertEquals(1, sts.getSpec().getVolumeClaimTemplates().size(), "one PVC template");
      assertTrue(
          selects(
              sts.getSpec().getSelector(), sts.getSpec().getTemplate().getMetadata().getLabels()));
    }
    for (ConfigMap cm : chart.all(ConfigMap.class)) {
      checkNoSecretsInConfigMap(chart, cm);
      Map<String, String> labels = cm.getMetadata().getLabels();
      if ("1".equals(labels.get("grafana_dashboard"))) {
        assertEquals(1, cm.getData().size(), "one dashboard per ConfigMap");
        for (String json : cm.getData().values()) {
          Map<?, ?> dashboard = RenderedChart.YAML.readValue(json, Map.class);
          assertNotNull(
              dashboard.get("panels"),
              "dashboard JSON without panels in " + cm.getMetadata().getName());
        }
      }
    }
    checkEnvNamesAreKnownSettings(chart);
    for (var o : chart.objects) {
      Map<String, String> labels = o.getMetadata().getLabels();
      assertNotNull(labels, o.getKind() + " " + o.getMetadata().getName() + " has no labels");
      assertEquals(
          "gpu-telemetry", labels.get("app.kubernetes.io/name"), o.getMetadata().getName());
      assertEquals(RELEASE, labels.get("app.kubernetes.io/instance"), o.getMetadata().getName());
      assertEquals("Helm", labels.get("app.kubernetes.io/managed-by"), o.getMetadata().getName());
      assertTrue(
          o.getMetadata().getName().length() <= 63, "name too long: " + o.getMetadata().getName());
    }
  }

  static Map<String, PodTemplateSpec> podTemplates(RenderedChart chart) {
    Map<String, PodTemplateSpec> templates = new LinkedHashMap<>();
    chart
        .all(Deployment.class)
        .forEach(d -> templates.put(d.getMetadata().getName(), d.getSpec().getTemplate()));
    chart
        .all(StatefulSet.class)
        .forEach(s -> templates.put(s.getMetadata().getName(), s.getSpec().getTemplate()));
    return templates;
  }

  static void checkDeployment(RenderedChart chart, Deployment d) {
    String name = d.getMetadata().getName();
    PodTemplateSpec template = d.getSpec().getTemplate();
    Map<String, String> podLabels = template.getMetadata().getLabels();
    String role = podLabels.get("app.kubernetes.io/component");
    assertTrue(APP_COMPONENTS.contains(role), name + ": component label " + role);
    assertEquals(FULLNAME + "-" + role, name);
    assertTrue(
        selects(d.getSpec().getSelector(), podLabels),
        name + ": selector does not match its pod labels");
    assertEquals(
        role,
        d.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/component"),
        name + ": the selector must include the component, or the two roles' pods would mix");

    boolean autoscaled =
        chart.all(HorizontalPodAutoscaler.class).stream()
                .anyMatch(h -> h.getSpec().getScaleTargetRef().getName().equals(name))
            || chart.custom("ScaledObject").stream()
                .anyMatch(
                    s ->
                        name.equals(
                            map(map(s.get("spec"), "spec").get("scaleTargetRef"), "scaleTargetRef")
                                .get("name")));
    if (autoscaled) {
      assertNull(
          d.getSpec().getReplicas(),
          name + ": replicas must be omitted when autoscaling owns them");
    } else {
      assertNotNull(d.getSpec().getReplicas(), name + ": replicas must be set without autoscaling");
    }

    PodSpec pod = template.getSpec();
    checkPodSecurity(name, pod);
    checkShutdownOrder(name, role, pod);
    assertEquals(1, pod.getContainers().size(), name + ": one container");
    Container c = pod.getContainers().get(0);
    assertEquals(
        List.of("--role", role.equals("collector") ? "producer" : role),
        c.getArgs(),
        name + ": args (the collector is a producer with only its sources)");
    assertTrue(
        c.getCommand() == null || c.getCommand().isEmpty(),
        name + ": the image entrypoint runs the jar");
    ContainerPort http =
        c.getPorts().stream()
            .filter(p -> "http".equals(p.getName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError(name + ": no container port named http"));
    assertEquals(8080, http.getContainerPort());
    checkProbe(name + " liveness", c.getLivenessProbe(), "/health/live");
    checkProbe(name + " readiness", c.getReadinessProbe(), "/health/ready");
    assertNotNull(
        c.getResources().getRequests().get("cpu"), name + ": CPU request (the HPA needs it)");
    assertNotNull(
        c.getResources().getLimits().get("memory"),
        name + ": memory limit (the JVM sizes its heap from it)");

    List<String> configMaps =
        c.getEnvFrom().stream()
            .map(EnvFromSource::getConfigMapRef)
            .map(r -> r.getName())
            .collect(Collectors.toList());
    assertEquals(
        List.of(FULLNAME + "-config", FULLNAME + "-" + role), configMaps, name + ": envFrom");
    configMaps.forEach(cm -> chart.one(ConfigMap.class, cm));
    Map<String, String> config = chart.configData(configMaps.toArray(String[]::new));
    for (String key :
        List.of(
            "GPUTEL_KAFKA_BOOTSTRAP_SERVERS",
            "GPUTEL_MONGO_DATABASE",
            "GPUTEL_KAFKA_TOPIC_PARTITIONS",
            "GPUTEL_KAFKA_TOPIC_REPLICATION_FACTOR",
            "GPUTEL_LOG_FORMAT",
            "GPUTEL_HTTP_PORT")) {
      assertTrue(config.containsKey(key), name + ": " + key + " not configured");
    }
    assertEquals("8080", config.get("GPUTEL_HTTP_PORT"));
    if (role.equals("producer")) {
      assertTrue(
          Set.of("true", "false").contains(config.get("GPUTEL_SIMULATOR_ENABLED")),
          "producer: GPUTEL_SIMULATOR_ENABLED is " + config.get("GPUTEL_SIMULATOR_ENABLED"));
    }
    checkSecretsByReference(name, c);
    if (role.equals("processor")) {
      boolean mongoFromSecret = env(c).containsKey("GPUTEL_MONGO_CONNECTION_STRING");
      boolean mongoInChart = config.containsKey("GPUTEL_MONGO_CONNECTION_STRING");
      assertTrue(
          mongoFromSecret ^ mongoInChart, "processor: MongoDB address from exactly one place");
      assertEquals(
          mongoInChart,
          chart.all(StatefulSet.class).stream()
              .anyMatch(s -> s.getMetadata().getName().endsWith("-mongodb")),
          "in-chart address only with the in-chart MongoDB");
    }
  }

  /**
   * A stopping pod keeps serving through a preStop sleep long enough for endpoint removal to reach
   * kube-proxy and the ingress controller, then gets SIGTERM (HTTP stops accepting and drains) and
   * enough grace for the drain and, for the processor, the batch in flight before SIGKILL.
   */
  static void checkShutdownOrder(String name, String role, PodSpec pod) {
    Container c = pod.getContainers().get(0);
    assertNotNull(c.getLifecycle(), name + ": no lifecycle (preStop)");
    var preStop = c.getLifecycle().getPreStop();
    assertNotNull(preStop, name + ": no preStop hook");
    long sleep;
    if (preStop.getSleep() != null) {
      sleep = preStop.getSleep().getSeconds();
    } else {
      assertEquals("sleep", preStop.getExec().getCommand().get(0), name + ": preStop sleeps");
      sleep = Long.parseLong(preStop.getExec().getCommand().get(1));
    }
    assertTrue(
        sleep >= 5, name + ": preStop sleep " + sleep + " s is shorter than endpoint propagation");
    long drain = HTTP_DRAIN_SECONDS + (role.equals("processor") ? 20 : 0);
    assertTrue(
        pod.getTerminationGracePeriodSeconds() > sleep + drain,
        name
            + ": terminationGracePeriodSeconds "
            + pod.getTerminationGracePeriodSeconds()
            + " must exceed preStop "
            + sleep
            + " + drain "
            + drain);
  }

  static void checkPodSecurity(String name, PodSpec pod) {
    PodSecurityContext psc = pod.getSecurityContext();
    assertEquals(Boolean.TRUE, psc.getRunAsNonRoot(), name + ": runAsNonRoot");
    assertEquals(10001L, psc.getRunAsUser(), name + ": runAsUser");
    assertEquals("RuntimeDefault", psc.getSeccompProfile().getType(), name + ": pod seccomp");
    // Only the collector calls the Kubernetes API (discovery), with its own read-only account.
    assertEquals(
        !name.endsWith("-collector"),
        Boolean.FALSE.equals(pod.getAutomountServiceAccountToken()),
        name + ": an API token only for the collector");
    assertEquals(Boolean.FALSE, pod.getEnableServiceLinks(), name + ": no service-link variables");
    for (Container c : pod.getContainers()) {
      SecurityContext sc = c.getSecurityContext();
      assertEquals(
          Boolean.FALSE, sc.getAllowPrivilegeEscalation(), name + ": allowPrivilegeEscalation");
      assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), name + ": readOnlyRootFilesystem");
      assertEquals(Boolean.TRUE, sc.getRunAsNonRoot(), name + ": container runAsNonRoot");
      assertEquals(
          List.of("ALL"), sc.getCapabilities().getDrop(), name + ": capabilities drop ALL");
      assertTrue(
          sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty(),
          name + ": no added capabilities");
      assertEquals(
          "RuntimeDefault", sc.getSeccompProfile().getType(), name + ": container seccomp");
      String tmpVolume =
          c.getVolumeMounts().stream()
              .filter(m -> m.getMountPath().equals("/tmp"))
              .map(m -> m.getName())
              .findFirst()
              .orElseThrow(() -> new AssertionError(name + ": nothing mounted at /tmp"));
      Volume v =
          pod.getVolumes().stream()
              .filter(vol -> vol.getName().equals(tmpVolume))
              .findFirst()
              .orElseThrow();
      assertNotNull(v.getEmptyDir(), name + ": /tmp is an emptyDir");
    }
  }

  static void checkProbe(String what, Probe probe, String path) {
    assertNotNull(probe, what + " probe missing");
    assertNotNull(probe.getHttpGet(), what + " probe is not HTTP");
    assertEquals(path, probe.getHttpGet().getPath(), what + " path");
    assertEquals("http", probe.getHttpGet().getPort().getStrVal(), what + " port");
  }

  static Map<String, EnvVar> env(Container c) {
    Map<String, EnvVar> env = new LinkedHashMap<>();
    if (c.getEnv() != null) {
      c.getEnv().forEach(e -> assertNull(env.put(e.getName(), e), "duplicate env " + e.getName()));
    }
    return env;
  }

  static void checkSecretsByReference(String name, Container c) {
    for (EnvVar e : env(c).values()) {
      if (SECRET_ENV.contains(e.getName())) {
        assertNull(e.getValue(), name + ": " + e.getName() + " must not be a literal value");
        assertNotNull(
            e.getValueFrom().getSecretKeyRef(),
            name + ": " + e.getName() + " must come from a Secret");
        assertFalse(e.getValueFrom().getSecretKeyRef().getName().isBlank());
      }
    }
  }

  static void checkNoSecretsInConfigMap(RenderedChart chart, ConfigMap cm) {
    if (cm.getData() == null) {
      return;
    }
    boolean inChartMongo =
        chart.all(StatefulSet.class).stream()
            .anyMatch(s -> s.getMetadata().getName().endsWith("-mongodb"));
    for (String key : cm.getData().keySet()) {
      if (key.equals("GPUTEL_MONGO_CONNECTION_STRING") && inChartMongo) {
        continue; // dev server without credentials
      }
      assertFalse(
          SECRET_ENV.contains(key),
          "secret " + key + " in ConfigMap " + cm.getMetadata().getName());
      assertFalse(
          key.matches("(?i).*(password|jaas|api_keys|secret).*"),
          "secret-like " + key + " in ConfigMap");
    }
  }

  static void checkServiceSelectsPods(RenderedChart chart, Service s) {
    String name = s.getMetadata().getName();
    Map<String, String> selector = s.getSpec().getSelector();
    assertNotNull(selector, name + ": Service without selector");
    List<String> selected =
        podTemplates(chart).entrySet().stream()
            .filter(e -> selects(selector, e.getValue().getMetadata().getLabels()))
            .map(Map.Entry::getKey)
            .toList();
    assertEquals(
        1,
        selected.size(),
        name + " must select the pods of exactly one workload, selects " + selected);
    PodTemplateSpec pods = podTemplates(chart).get(selected.get(0));
    Set<String> containerPorts =
        pods.getSpec().getContainers().stream()
            .flatMap(c -> c.getPorts().stream())
            .map(ContainerPort::getName)
            .collect(Collectors.toSet());
    for (ServicePort p : s.getSpec().getPorts()) {
      assertTrue(
          containerPorts.contains(p.getTargetPort().getStrVal()),
          name + ": targetPort " + p.getTargetPort() + " is not a container port");
    }
    String component = s.getMetadata().getLabels().get("app.kubernetes.io/component");
    if (APP_COMPONENTS.contains(component)) {
      assertEquals(FULLNAME + "-" + component, name);
      assertEquals(1, s.getSpec().getPorts().size());
      ServicePort http = s.getSpec().getPorts().get(0);
      assertEquals("http", http.getName(), name + ": port name");
      assertEquals(8080, http.getPort(), name + ": port");
    }
  }

  static void checkHpa(RenderedChart chart, HorizontalPodAutoscaler hpa) {
    var spec = hpa.getSpec();
    var ref = spec.getScaleTargetRef();
    assertEquals("apps/v1", ref.getApiVersion());
    assertEquals("Deployment", ref.getKind());
    Deployment target = chart.one(Deployment.class, ref.getName());
    assertEquals(
        hpa.getMetadata().getLabels().get("app.kubernetes.io/component"),
        target.getMetadata().getLabels().get("app.kubernetes.io/component"),
        "HPA targets its own role");
    assertTrue(
        spec.getMinReplicas() >= 1 && spec.getMinReplicas() <= spec.getMaxReplicas(), "min <= max");
    MetricSpec metric = spec.getMetrics().get(0);
    assertEquals("Resource", metric.getType());
    assertEquals("cpu", metric.getResource().getName());
    assertEquals("Utilization", metric.getResource().getTarget().getType());
    assertNotNull(spec.getBehavior(), "scaling behaviour with stabilisation windows");
    assertNotNull(spec.getBehavior().getScaleDown().getStabilizationWindowSeconds());
    if (ref.getName().equals(PROCESSOR)) {
      assertTrue(
          spec.getMaxReplicas() <= partitions(chart), "processor HPA beyond the partition count");
    }
  }

  static int partitions(RenderedChart chart) {
    return Integer.parseInt(
        chart.configData(FULLNAME + "-config").get("GPUTEL_KAFKA_TOPIC_PARTITIONS"));
  }

  static void checkScaledObject(RenderedChart chart, Map<String, Object> so) {
    Map<String, Object> spec = map(so.get("spec"), "ScaledObject spec");
    Map<String, Object> ref = map(spec.get("scaleTargetRef"), "scaleTargetRef");
    assertEquals(PROCESSOR, ref.get("name"), "ScaledObject targets the processor");
    assertEquals("Deployment", ref.get("kind"));
    chart.one(Deployment.class, PROCESSOR);
    assertTrue(
        chart.all(HorizontalPodAutoscaler.class).stream()
            .noneMatch(h -> h.getSpec().getScaleTargetRef().getName().equals(PROCESSOR)),
        "an HPA and a ScaledObject must not both scale the processor");
    int max = ((Number) spec.get("maxReplicaCount")).intValue();
    int min = ((Number) spec.get("minReplicaCount")).intValue();
    assertTrue(
        max <= partitions(chart), "maxReplicaCount " + max + " > partitions " + partitions(chart));
    assertTrue(min <= max);
    Map<String, String> config = chart.configData(FULLNAME + "-config");
    Set<String> topics = new TreeSet<>();
    for (Object t : list(spec.get("triggers"), "triggers")) {
      Map<String, Object> trigger = map(t, "trigger");
      assertEquals("kafka", trigger.get("type"));
      Map<String, Object> md = map(trigger.get("metadata"), "trigger metadata");
      assertEquals(config.get("GPUTEL_PROCESSOR_GROUP_ID"), md.get("consumerGroup"));
      assertEquals("processor", md.get("consumerGroup"));
      assertEquals(config.get("GPUTEL_KAFKA_BOOTSTRAP_SERVERS"), md.get("bootstrapServers"));
      assertTrue(Integer.parseInt((String) md.get("lagThreshold")) > 0, "lagThreshold");
      topics.add((String) md.get("topic"));
    }
    assertEquals(new TreeSet<>(Set.of("gpu.metrics.v1", "token.usage.v1")), topics);
    Map<String, Object> behavior =
        map(
            map(
                    map(spec.get("advanced"), "advanced").get("horizontalPodAutoscalerConfig"),
                    "horizontalPodAutoscalerConfig")
                .get("behavior"),
            "behavior");
    assertNotNull(map(behavior.get("scaleDown"), "scaleDown").get("stabilizationWindowSeconds"));
  }

  static void checkServiceMonitor(RenderedChart chart, Map<String, Object> sm) {
    Map<String, Object> spec = map(sm.get("spec"), "ServiceMonitor spec");
    LabelSelector selector =
        RenderedChart.STRICT.convertValue(spec.get("selector"), LabelSelector.class);
    List<Service> selected =
        chart.all(Service.class).stream()
            .filter(s -> selects(selector, s.getMetadata().getLabels()))
            .toList();
    Set<String> expected =
        chart.all(Service.class).stream()
            .filter(
                s ->
                    APP_COMPONENTS.contains(
                        s.getMetadata().getLabels().get("app.kubernetes.io/component")))
            .map(s -> s.getMetadata().getName())
            .collect(Collectors.toSet());
    assertEquals(
        expected,
        selected.stream().map(s -> s.getMetadata().getName()).collect(Collectors.toSet()),
        "ServiceMonitor selects exactly the producer and processor Services");
    assertEquals(
        List.of(NAMESPACE),
        map(spec.get("namespaceSelector"), "namespaceSelector").get("matchNames"));
    for (Object e : list(spec.get("endpoints"), "endpoints")) {
      Map<String, Object> endpoint = map(e, "endpoint");
      assertEquals("/metrics", endpoint.get("path"));
      for (Service s : selected) {
        assertTrue(
            s.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(endpoint.get("port"))),
            "Service " + s.getMetadata().getName() + " has no port named " + endpoint.get("port"));
      }
    }
  }

  static void checkPrometheusRule(Map<String, Object> rule) {
    Map<String, Object> spec = map(rule.get("spec"), "PrometheusRule spec");
    List<Object> groups = list(spec.get("groups"), "groups");
    assertFalse(groups.isEmpty(), "PrometheusRule without groups");
    for (Object g : groups) {
      Map<String, Object> group = map(g, "group");
      assertNotNull(group.get("name"), "group name");
      for (Object r : list(group.get("rules"), "rules of " + group.get("name"))) {
        Map<String, Object> ruleMap = map(r, "rule");
        assertTrue(
            ruleMap.containsKey("record") ^ ruleMap.containsKey("alert"),
            "rule is a record or an alert: " + ruleMap);
        assertNotNull(ruleMap.get("expr"), "rule expr: " + ruleMap);
      }
    }
  }

  static void checkNetworkPolicy(RenderedChart chart, NetworkPolicy np) {
    for (Deployment d : chart.all(Deployment.class)) {
      assertTrue(
          selects(
              np.getSpec().getPodSelector(), d.getSpec().getTemplate().getMetadata().getLabels()),
          "NetworkPolicy does not cover " + d.getMetadata().getName());
    }
    assertEquals(List.of("Ingress", "Egress"), np.getSpec().getPolicyTypes());
    for (NetworkPolicyIngressRule rule : np.getSpec().getIngress()) {
      assertEquals(
          List.of("http"),
          rule.getPorts().stream().map(NetworkPolicyPort::getPort).map(p -> p.getStrVal()).toList(),
          "ingress only to the http port");
      assertFalse(rule.getFrom() == null || rule.getFrom().isEmpty(), "ingress from everyone");
    }
    Set<Integer> egressPorts =
        np.getSpec().getEgress().stream()
            .flatMap(r -> r.getPorts().stream())
            .map(p -> p.getPort().getIntVal())
            .collect(Collectors.toSet());
    assertTrue(egressPorts.contains(53), "DNS egress");
    assertTrue(egressPorts.stream().anyMatch(p -> p != 53 && p != 27017), "Kafka egress");
  }

  /**
   * Unknown GPUTEL_* variables stop the application at start-up: every one must be a real setting.
   */
  static void checkEnvNamesAreKnownSettings(RenderedChart chart) throws IOException {
    Set<String> known = knownSettingEnvNames();
    Set<String> used = new TreeSet<>();
    for (ConfigMap cm : chart.all(ConfigMap.class)) {
      if (cm.getData() != null && cm.getMetadata().getName().startsWith(FULLNAME + "-")) {
        cm.getData().keySet().stream().filter(k -> k.startsWith("GPUTEL_")).forEach(used::add);
      }
    }
    for (Deployment d : chart.all(Deployment.class)) {
      d.getSpec()
          .getTemplate()
          .getSpec()
          .getContainers()
          .forEach(
              c ->
                  env(c).keySet().stream().filter(k -> k.startsWith("GPUTEL_")).forEach(used::add));
    }
    for (String name : used) {
      boolean passThrough =
          name.startsWith("GPUTEL_KAFKA_CLIENT_")
              || name.startsWith("GPUTEL_KAFKA_PRODUCER_")
              || name.startsWith("GPUTEL_KAFKA_CONSUMER_");
      assertTrue(
          passThrough || known.contains(name),
          name + " is not a setting of conf/gpu-telemetry.properties");
    }
  }

  static Set<String> knownSettingEnvNames() throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(Paths.get("conf/gpu-telemetry.properties"))) {
      p.load(in);
    }
    return p.stringPropertyNames().stream()
        .map(
            k ->
                "GPUTEL_"
                    + k.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_'))
        .collect(Collectors.toSet());
  }

  // ---------------------------------------------------------------- scenarios

  @Test
  void defaultsAutoscaleBothRolesOnCpuWithoutMonitoringObjects() {
    RenderedChart chart = render(null, Map.of());
    assertEquals(Set.of(PRODUCER, PROCESSOR), names(chart.all(Deployment.class)));
    assertEquals(Set.of(PRODUCER, PROCESSOR), names(chart.all(HorizontalPodAutoscaler.class)));
    assertTrue(chart.custom("ScaledObject").isEmpty());
    assertTrue(chart.customResources.isEmpty(), "monitoring CRs are opt-in");
    assertTrue(chart.all(StatefulSet.class).isEmpty(), "no in-chart Kafka/MongoDB by default");
    assertEquals(Set.of(PRODUCER, PROCESSOR), names(chart.all(PodDisruptionBudget.class)));
    assertEquals(1, chart.all(NetworkPolicy.class).size());
    assertEquals(1, chart.all(ServiceAccount.class).size());
    Map<String, String> config = chart.configData(FULLNAME + "-config", FULLNAME + "-producer");
    assertEquals("json", config.get("GPUTEL_LOG_FORMAT"), "JSON logs in-cluster, for Loki");
    assertEquals("6", config.get("GPUTEL_KAFKA_TOPIC_PARTITIONS"));
    assertEquals("true", config.get("GPUTEL_SIMULATOR_ENABLED"));
    assertEquals("telemetry", config.get("GPUTEL_MONGO_DATABASE"));
    Container processor = container(chart, PROCESSOR);
    assertEquals(
        "gpu-telemetry-mongodb",
        env(processor)
            .get("GPUTEL_MONGO_CONNECTION_STRING")
            .getValueFrom()
            .getSecretKeyRef()
            .getName());
    assertFalse(
        env(container(chart, PRODUCER)).containsKey("GPUTEL_MONGO_CONNECTION_STRING"),
        "the producer never talks to MongoDB");
    assertEquals(
        "ghcr.io/gpu-telemetry/gpu-telemetry:0.1.0",
        processor.getImage(),
        "the image CI publishes, tagged with the appVersion");
    for (String d : List.of(PRODUCER, PROCESSOR)) {
      PodTemplateSpec pods = chart.one(Deployment.class, d).getSpec().getTemplate();
      var spread = pods.getSpec().getTopologySpreadConstraints();
      assertEquals(
          List.of("kubernetes.io/hostname", "topology.kubernetes.io/zone"),
          spread.stream().map(t -> t.getTopologyKey()).toList(),
          d + ": spread over nodes and zones by default");
      for (var t : spread) {
        assertTrue(
            selects(t.getLabelSelector(), pods.getMetadata().getLabels()),
            d + ": the spread counts the role's own pods");
        assertEquals(List.of("pod-template-hash"), t.getMatchLabelKeys());
        assertEquals("ScheduleAnyway", t.getWhenUnsatisfiable());
      }
    }
  }

  @Test
  void monitoringScenarioRendersServiceMonitorRulesLokiRulesAndDashboards() throws IOException {
    RenderedChart chart = render("defaults-monitoring");
    assertEquals(1, chart.custom("ServiceMonitor").size());
    Path rules = CHART.resolve("files/prometheus/gpu-telemetry.rules.yaml");
    assertEquals(Files.exists(rules) ? 1 : 0, chart.custom("PrometheusRule").size());
    if (Files.exists(rules)) {
      Map<?, ?> file = RenderedChart.YAML.readValue(rules.toFile(), Map.class);
      Map<String, Object> spec = map(chart.custom("PrometheusRule").get(0).get("spec"), "spec");
      assertEquals(
          file.get("groups"), spec.get("groups"), "PrometheusRule spec is the rule file's groups");
    }
    List<ConfigMap> dashboards =
        chart.all(ConfigMap.class).stream()
            .filter(c -> "1".equals(c.getMetadata().getLabels().get("grafana_dashboard")))
            .toList();
    Set<String> dashboardFiles = new TreeSet<>();
    Path dir = CHART.resolve("files/dashboards");
    if (Files.isDirectory(dir)) {
      try (Stream<Path> files = Files.list(dir)) {
        files
            .map(p -> p.getFileName().toString())
            .filter(n -> n.endsWith(".json"))
            .forEach(dashboardFiles::add);
      }
    }
    assertEquals(
        dashboardFiles,
        dashboards.stream()
            .flatMap(c -> c.getData().keySet().stream())
            .collect(Collectors.toCollection(TreeSet::new)),
        "one ConfigMap per dashboard file");
    List<ConfigMap> loki =
        chart.all(ConfigMap.class).stream()
            .filter(c -> "1".equals(c.getMetadata().getLabels().get("loki_rule")))
            .toList();
    Path lokiFile = CHART.resolve("files/loki/gpu-telemetry.loki-rules.yaml");
    assertEquals(Files.exists(lokiFile) ? 1 : 0, loki.size());
    if (Files.exists(lokiFile)) {
      assertEquals(
          Files.readString(lokiFile).strip(),
          loki.get(0).getData().get("gpu-telemetry.loki-rules.yaml").strip());
    }
    Map<String, Object> smLabels =
        map(
            map(chart.custom("ServiceMonitor").get(0).get("metadata"), "metadata").get("labels"),
            "labels");
    assertEquals(
        "kube-prometheus-stack",
        smLabels.get("release"),
        "labels Prometheus selects ServiceMonitors by");
  }

  @Test
  void monitoringRendersWithoutTheRuleAndDashboardFiles(@TempDir Path tmp) throws IOException {
    Path chart = copyChart(tmp);
    deleteTree(chart.resolve("files"));
    RenderedChart rendered =
        RenderedChart.parse(
            template(chart, CHART.resolve("ci/defaults-monitoring-values.yaml"), Map.of()));
    assertEquals(1, rendered.custom("ServiceMonitor").size());
    assertTrue(rendered.custom("PrometheusRule").isEmpty());
    assertTrue(
        rendered.all(ConfigMap.class).stream()
            .noneMatch(
                c ->
                    c.getMetadata().getLabels().containsKey("grafana_dashboard")
                        || c.getMetadata().getLabels().containsKey("loki_rule")));
  }

  static List<Object> ruleGroups(RenderedChart chart) {
    List<Map<String, Object>> rules = chart.custom("PrometheusRule");
    assertEquals(1, rules.size(), "one PrometheusRule");
    return list(map(rules.get(0).get("spec"), "spec").get("groups"), "groups");
  }

  static List<Object> fileGroups(String file) throws IOException {
    Map<?, ?> rules =
        RenderedChart.YAML.readValue(
            CHART.resolve("files/prometheus").resolve(file).toFile(), Map.class);
    return list(rules.get("groups"), file + " groups");
  }

  @Test
  void dcgmCompatAddsItsGroupsToThePrometheusRuleOnlyWhenEnabled() throws IOException {
    Path monitoring = CHART.resolve("ci/defaults-monitoring-values.yaml");
    List<Object> main = fileGroups("gpu-telemetry.rules.yaml");
    List<Object> compat = fileGroups("dcgm-compat.rules.yaml");
    assertEquals(main, ruleGroups(render(monitoring, Map.of())), "off by default");

    RenderedChart on =
        render(monitoring, Map.of("monitoring.prometheusRule.dcgmCompat.enabled", true));
    List<Object> both = new ArrayList<>(main);
    both.addAll(compat);
    assertEquals(both, ruleGroups(on), "the main groups, then the DCGM-compatible ones");
    checkPrometheusRule(on.custom("PrometheusRule").get(0));

    assertTrue(
        render(null, Map.of("monitoring.prometheusRule.dcgmCompat.enabled", true))
            .custom("PrometheusRule")
            .isEmpty(),
        "dcgmCompat alone creates no PrometheusRule");
  }

  @Test
  void dcgmCompatWithoutItsRuleFileStopsTheRender(@TempDir Path tmp) throws IOException {
    Path chart = copyChart(tmp);
    Files.delete(chart.resolve("files/prometheus/dcgm-compat.rules.yaml"));
    IllegalStateException ex =
        assertThrows(
            IllegalStateException.class,
            () ->
                template(
                    chart,
                    CHART.resolve("ci/defaults-monitoring-values.yaml"),
                    Map.of("monitoring.prometheusRule.dcgmCompat.enabled", true)));
    assertTrue(ex.getMessage().contains("dcgm-compat.rules.yaml is missing"), ex.getMessage());
  }

  @Test
  void kedaScalesTheProcessorOnLagAndTheProducerKeepsItsCpuHpa() {
    RenderedChart chart = render("keda");
    assertEquals(Set.of(PRODUCER), names(chart.all(HorizontalPodAutoscaler.class)));
    List<Map<String, Object>> scaled = chart.custom("ScaledObject");
    assertEquals(1, scaled.size());
    Map<String, Object> spec = map(scaled.get(0).get("spec"), "spec");
    assertEquals(12, ((Number) spec.get("maxReplicaCount")).intValue());
    assertEquals(2, ((Number) spec.get("minReplicaCount")).intValue());
    assertEquals(12, partitions(chart));
    assertNull(chart.one(Deployment.class, PROCESSOR).getSpec().getReplicas());
  }

  @Test
  void withoutKedaTheProcessorFallsBackToACpuHpa() {
    RenderedChart chart = render("hpa");
    assertTrue(chart.custom("ScaledObject").isEmpty());
    HorizontalPodAutoscaler hpa = chart.one(HorizontalPodAutoscaler.class, PROCESSOR);
    assertEquals(PROCESSOR, hpa.getSpec().getScaleTargetRef().getName());
    assertEquals(2, hpa.getSpec().getMinReplicas());
    assertEquals(6, hpa.getSpec().getMaxReplicas());
    assertEquals(
        65, hpa.getSpec().getMetrics().get(0).getResource().getTarget().getAverageUtilization());
    assertEquals(
        60,
        chart
            .one(HorizontalPodAutoscaler.class, PRODUCER)
            .getSpec()
            .getMetrics()
            .get(0)
            .getResource()
            .getTarget()
            .getAverageUtilization());
  }

  @Test
  void autoscalingOffSetsReplicasAndRendersNoAutoscaler() {
    RenderedChart chart = render("autoscaling-off");
    assertTrue(chart.all(HorizontalPodAutoscaler.class).isEmpty());
    assertTrue(chart.custom("ScaledObject").isEmpty());
    assertEquals(2, chart.one(Deployment.class, PRODUCER).getSpec().getReplicas());
    assertEquals(3, chart.one(Deployment.class, PROCESSOR).getSpec().getReplicas());
    PodDisruptionBudget pdb = chart.one(PodDisruptionBudget.class, PRODUCER);
    assertEquals(1, pdb.getSpec().getMinAvailable().getIntVal());
    assertNull(pdb.getSpec().getMaxUnavailable());
  }

  @Test
  void devScenarioRunsKafkaAndMongoInTheChartAndPointsTheAppAtThem() {
    RenderedChart chart =
        render(
            scenarioFile("dev-inchart"), Map.of("capabilities.apiVersions[0]", "keda.sh/v1alpha1"));
    StatefulSet kafka = chart.one(StatefulSet.class, FULLNAME + "-kafka");
    StatefulSet mongo = chart.one(StatefulSet.class, FULLNAME + "-mongodb");
    assertEquals(
        "apache/kafka:4.1.1",
        kafka.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
    assertEquals(
        "mongo:8.0", mongo.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
    assertEquals(
        "2Gi",
        kafka
            .getSpec()
            .getVolumeClaimTemplates()
            .get(0)
            .getSpec()
            .getResources()
            .getRequests()
            .get("storage")
            .toString());
    Map<String, String> kafkaEnv =
        kafka.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
            .collect(
                Collectors.toMap(EnvVar::getName, e -> e.getValue() == null ? "" : e.getValue()));
    assertEquals("broker,controller", kafkaEnv.get("KAFKA_PROCESS_ROLES"), "KRaft combined node");
    assertEquals("1", kafkaEnv.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"));
    String podHost =
        FULLNAME
            + "-kafka-0."
            + FULLNAME
            + "-kafka-headless."
            + NAMESPACE
            + ".svc.cluster.local:9092";
    assertEquals("PLAINTEXT://" + podHost, kafkaEnv.get("KAFKA_ADVERTISED_LISTENERS"));
    Map<String, String> config = chart.configData(FULLNAME + "-config");
    assertEquals(podHost, config.get("GPUTEL_KAFKA_BOOTSTRAP_SERVERS"));
    assertTrue(
        config
            .get("GPUTEL_MONGO_CONNECTION_STRING")
            .startsWith("mongodb://" + FULLNAME + "-mongodb-0."));
    assertTrue(
        config.get("GPUTEL_MONGO_CONNECTION_STRING").contains("replicaSet=rs0"),
        "single-member replica set");
    assertEquals("3", config.get("GPUTEL_KAFKA_TOPIC_PARTITIONS"));
    assertEquals("1", config.get("GPUTEL_KAFKA_TOPIC_REPLICATION_FACTOR"));
    assertEquals(
        "20", config.get("GPUTEL_SIMULATOR_RATE"), "free-form config map rendered as settings");
    assertFalse(
        env(container(chart, PROCESSOR)).containsKey("GPUTEL_MONGO_CONNECTION_STRING"),
        "no Secret needed in dev");
    NetworkPolicy np = chart.all(NetworkPolicy.class).get(0);
    assertTrue(
        np.getSpec().getEgress().stream()
            .anyMatch(
                r ->
                    r.getTo() != null
                        && r.getTo().stream()
                            .anyMatch(
                                p ->
                                    p.getPodSelector() != null
                                        && selects(
                                            p.getPodSelector(),
                                            kafka
                                                .getSpec()
                                                .getTemplate()
                                                .getMetadata()
                                                .getLabels()))),
        "egress to the in-chart broker");
    Map<String, Object> trigger =
        map(
            list(map(chart.custom("ScaledObject").get(0).get("spec"), "spec").get("triggers"), "t")
                .get(0),
            "t");
    assertEquals(podHost, map(trigger.get("metadata"), "metadata").get("bootstrapServers"));
  }

  @Test
  void anApiKeyFileSecretIsMountedReadOnlyIntoBothRolesAndNamedAsTheKeyFile() {
    RenderedChart chart =
        render(
            null, Map.of("auth.keysSecret.name", "gpu-telemetry-keys", "auth.anonymousScopes", ""));
    for (String role : List.of(PRODUCER, PROCESSOR)) {
      Container c = container(chart, role);
      assertEquals(
          "/etc/gpu-telemetry/keys/keys", env(c).get("GPUTEL_AUTH_KEYS_FILE").getValue(), role);
      assertFalse(env(c).containsKey("GPUTEL_AUTH_ANONYMOUS_SCOPES"), role + ": keys everywhere");
      assertTrue(
          c.getVolumeMounts().stream()
              .anyMatch(
                  m ->
                      m.getName().equals("api-keys")
                          && m.getMountPath().equals("/etc/gpu-telemetry/keys")
                          && Boolean.TRUE.equals(m.getReadOnly())),
          role);
      assertTrue(
          chart.one(Deployment.class, role).getSpec().getTemplate().getSpec().getVolumes().stream()
              .anyMatch(
                  v ->
                      v.getSecret() != null
                          && v.getSecret().getSecretName().equals("gpu-telemetry-keys")),
          role);
    }
    Container byDefault = container(render(null, Map.of()), PROCESSOR);
    assertFalse(env(byDefault).containsKey("GPUTEL_AUTH_KEYS_FILE"), "no key file by default");
    assertEquals("metrics", env(byDefault).get("GPUTEL_AUTH_ANONYMOUS_SCOPES").getValue());
  }

  @Test
  void accountingFilesGivenInlineAreMountedReadOnlyAndTheSettingsPointAtThem(@TempDir Path tmp)
      throws IOException {
    String book = Files.readString(Path.of("conf", "price-book.contracts-example.json"));
    String budgets = Files.readString(Path.of("conf", "budgets.json"));
    String profiles = Files.readString(Path.of("conf", "gpu-profiles.json"));
    Path values = tmp.resolve("accounting-values.yaml");
    Files.writeString(
        values,
        io.gputelemetry.json.Json.MAPPER.writeValueAsString(
            Map.of(
                "accountingFiles",
                Map.of("priceBook", book, "gpuProfiles", profiles, "budgets", budgets))));
    RenderedChart chart = render(values, Map.of());
    ConfigMap cm =
        chart.all(ConfigMap.class).stream()
            .filter(c -> c.getMetadata().getName().endsWith("-accounting"))
            .findFirst()
            .orElseThrow();
    assertEquals(book, cm.getData().get("price-book.json"), "the file's bytes, as given");
    assertEquals(profiles, cm.getData().get("gpu-profiles.json"));
    assertEquals(budgets, cm.getData().get("budgets.json"));
    Map<String, String> paths =
        Map.of(
            "GPUTEL_PRICING_PRICE_BOOK", "/etc/gpu-telemetry/accounting/price-book.json",
            "GPUTEL_ACCOUNTING_GPU_PROFILES", "/etc/gpu-telemetry/accounting/gpu-profiles.json",
            "GPUTEL_BUDGETS_FILE", "/etc/gpu-telemetry/accounting/budgets.json");
    for (String role : List.of(PRODUCER, PROCESSOR)) {
      Container c = container(chart, role);
      paths.forEach((k, v) -> assertEquals(v, env(c).get(k).getValue(), role + " " + k));
      assertTrue(
          c.getVolumeMounts().stream()
              .anyMatch(
                  m ->
                      m.getName().equals("accounting")
                          && m.getMountPath().equals("/etc/gpu-telemetry/accounting")
                          && Boolean.TRUE.equals(m.getReadOnly())),
          role);
      PodTemplateSpec pod = chart.one(Deployment.class, role).getSpec().getTemplate();
      assertTrue(
          pod.getSpec().getVolumes().stream()
              .anyMatch(
                  v ->
                      v.getName().equals("accounting")
                          && v.getConfigMap() != null
                          && v.getConfigMap().getName().equals(cm.getMetadata().getName())),
          role);
      assertTrue(
          pod.getMetadata().getAnnotations().containsKey("checksum/accounting"),
          role + ": a new file rolls the pods");
    }
    // One file only: only its setting and key.
    RenderedChart one = render(null, Map.of("accountingFiles.budgets", "{}"));
    Container p = container(one, PROCESSOR);
    assertEquals(
        "/etc/gpu-telemetry/accounting/budgets.json", env(p).get("GPUTEL_BUDGETS_FILE").getValue());
    assertFalse(env(p).containsKey("GPUTEL_PRICING_PRICE_BOOK"));
    RenderedChart none = render(null, Map.of());
    assertTrue(
        none.all(ConfigMap.class).stream()
            .noneMatch(c -> c.getMetadata().getName().endsWith("-accounting")),
        "no files, no ConfigMap");
    Container d = container(none, PROCESSOR);
    assertFalse(env(d).containsKey("GPUTEL_BUDGETS_FILE"));
    assertTrue(d.getVolumeMounts().stream().noneMatch(m -> m.getName().equals("accounting")));
  }

  @Test
  void productionUsesExternalServicesDurableTopicsAndSecretsByReference() {
    RenderedChart chart = render("production");
    assertTrue(chart.all(StatefulSet.class).isEmpty(), "no in-chart Kafka/MongoDB in production");
    Map<String, String> config = chart.configData(FULLNAME + "-config", FULLNAME + "-producer");
    assertEquals(
        3, config.get("GPUTEL_KAFKA_BOOTSTRAP_SERVERS").split(",").length, "three brokers");
    assertEquals("3", config.get("GPUTEL_KAFKA_TOPIC_REPLICATION_FACTOR"));
    assertEquals("2", config.get("GPUTEL_KAFKA_TOPIC_MIN_INSYNC_REPLICAS"));
    assertEquals("SASL_SSL", config.get("GPUTEL_KAFKA_CLIENT_SECURITY_PROTOCOL"));
    assertEquals("SCRAM-SHA-512", config.get("GPUTEL_KAFKA_CLIENT_SASL_MECHANISM"));
    assertEquals("false", config.get("GPUTEL_SIMULATOR_ENABLED"));
    assertFalse(config.containsKey("GPUTEL_MONGO_CONNECTION_STRING"));
    Map<String, EnvVar> processor = env(container(chart, PROCESSOR));
    Map<String, EnvVar> producer = env(container(chart, PRODUCER));
    assertEquals(
        "gpu-telemetry-mongodb",
        processor.get("GPUTEL_MONGO_CONNECTION_STRING").getValueFrom().getSecretKeyRef().getName());
    assertEquals(
        "gpu-telemetry-kafka",
        processor
            .get("GPUTEL_KAFKA_CLIENT_SASL_JAAS_CONFIG")
            .getValueFrom()
            .getSecretKeyRef()
            .getName());
    assertEquals(
        "gpu-telemetry-kafka",
        producer
            .get("GPUTEL_KAFKA_CLIENT_SASL_JAAS_CONFIG")
            .getValueFrom()
            .getSecretKeyRef()
            .getName());
    assertEquals(
        "api-keys",
        producer.get("GPUTEL_INGEST_API_KEYS").getValueFrom().getSecretKeyRef().getKey());
    Map<String, Object> trigger =
        map(
            list(map(chart.custom("ScaledObject").get(0).get("spec"), "spec").get("triggers"), "t")
                .get(0),
            "t");
    assertEquals(
        FULLNAME + "-kafka",
        map(trigger.get("authenticationRef"), "authenticationRef").get("name"),
        "KEDA authenticates to SASL brokers with the chart's TriggerAuthentication");
    assertFalse(
        chart.source.contains("org.apache.kafka.common.security"), "no JAAS line in the manifests");
  }

  // ---------------------------------------------------------------- reaching the release, TLS

  @Test
  void productionValuesRenderAnIngressTlsToKafkaAndKedaAuthentication() {
    RenderedChart chart = render(PRODUCTION, Map.of());

    Ingress ingress = chart.one(Ingress.class, FULLNAME);
    Map<String, String> backends = new LinkedHashMap<>();
    ingress
        .getSpec()
        .getRules()
        .forEach(
            r ->
                backends.put(
                    r.getHost(),
                    r.getHttp().getPaths().get(0).getBackend().getService().getName()));
    assertEquals(
        Map.of("ingest.telemetry.example.com", PRODUCER, "telemetry.example.com", PROCESSOR),
        backends,
        "ingest reaches the producer, the console the processor");
    assertEquals("gpu-telemetry-tls", ingress.getSpec().getTls().get(0).getSecretName());
    assertEquals(
        Set.copyOf(backends.keySet()), Set.copyOf(ingress.getSpec().getTls().get(0).getHosts()));
    assertEquals(
        "letsencrypt-prod",
        ingress.getMetadata().getAnnotations().get("cert-manager.io/cluster-issuer"),
        "cert-manager issues the certificate");

    Map<String, String> config = chart.configData(FULLNAME + "-config");
    assertEquals("SASL_SSL", config.get("GPUTEL_KAFKA_CLIENT_SECURITY_PROTOCOL"));
    assertEquals("PEM", config.get("GPUTEL_KAFKA_CLIENT_SSL_TRUSTSTORE_TYPE"));
    String caPath = config.get("GPUTEL_KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATION");
    for (String d : List.of(PRODUCER, PROCESSOR)) {
      PodSpec pod = chart.one(Deployment.class, d).getSpec().getTemplate().getSpec();
      var mount =
          pod.getContainers().get(0).getVolumeMounts().stream()
              .filter(m -> caPath.startsWith(m.getMountPath() + "/"))
              .findFirst()
              .orElseThrow(() -> new AssertionError(d + ": nothing mounted at " + caPath));
      Volume v =
          pod.getVolumes().stream()
              .filter(x -> x.getName().equals(mount.getName()))
              .findFirst()
              .orElseThrow();
      assertEquals(
          "gpu-telemetry-kafka-ca", v.getSecret().getSecretName(), d + ": CA from its Secret");
      assertEquals(
          caPath.substring(mount.getMountPath().length() + 1),
          v.getSecret().getItems().get(0).getPath(),
          d + ": the trust store location is the mounted file");
      assertEquals("ca.crt", v.getSecret().getItems().get(0).getKey());
    }

    Map<String, Object> auth = chart.customOne("TriggerAuthentication", FULLNAME + "-kafka");
    Map<String, String> refs = secretTargetRefs(auth);
    assertEquals(
        Map.of(
            "username", "gpu-telemetry-kafka/username",
            "password", "gpu-telemetry-kafka/password",
            "ca", "gpu-telemetry-kafka-ca/ca.crt"),
        refs,
        "KEDA reads the lag with the application's Secrets");
    for (Object t :
        list(
            map(chart.custom("ScaledObject").get(0).get("spec"), "spec").get("triggers"),
            "triggers")) {
      Map<String, Object> md = map(map(t, "trigger").get("metadata"), "metadata");
      assertEquals("scram_sha512", md.get("sasl"));
      assertEquals("enable", md.get("tls"));
    }
  }

  static Map<String, String> secretTargetRefs(Map<String, Object> triggerAuthentication) {
    Map<String, String> refs = new LinkedHashMap<>();
    for (Object r :
        list(map(triggerAuthentication.get("spec"), "spec").get("secretTargetRef"), "refs")) {
      Map<String, Object> ref = map(r, "ref");
      refs.put((String) ref.get("parameter"), ref.get("name") + "/" + ref.get("key"));
    }
    return refs;
  }

  @Test
  void mutualTlsTakesTheClientCertificateAndKeyFromTheirSecretForTheAppAndKeda() {
    RenderedChart chart =
        render(
            CHART.resolve("ci/keda-values.yaml"),
            Map.of(
                "kafka.tls.enabled", true,
                "kafka.tls.caSecret.name", "cluster-ca-cert",
                "kafka.tls.clientSecret.name", "telemetry-user"));
    Map<String, String> config = chart.configData(FULLNAME + "-config");
    assertEquals("SSL", config.get("GPUTEL_KAFKA_CLIENT_SECURITY_PROTOCOL"), "TLS without SASL");
    assertEquals("PEM", config.get("GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_TYPE"));
    for (String d : List.of(PRODUCER, PROCESSOR)) {
      Map<String, EnvVar> env = env(container(chart, d));
      assertEquals(
          "telemetry-user/user.crt",
          secretRef(env.get("GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_CERTIFICATE_CHAIN")),
          d);
      assertEquals(
          "telemetry-user/user.key", secretRef(env.get("GPUTEL_KAFKA_CLIENT_SSL_KEYSTORE_KEY")), d);
    }
    assertEquals(
        Map.of(
            "ca", "cluster-ca-cert/ca.crt",
            "cert", "telemetry-user/user.crt",
            "key", "telemetry-user/user.key"),
        secretTargetRefs(chart.customOne("TriggerAuthentication", FULLNAME + "-kafka")));
    assertFalse(chart.source.contains("AWS_MSK_IAM"), "no mechanism the jar cannot do is offered");
  }

  static String secretRef(EnvVar e) {
    assertNotNull(e, "env missing");
    assertNull(e.getValue(), e.getName() + " must come from a Secret");
    return e.getValueFrom().getSecretKeyRef().getName()
        + "/"
        + e.getValueFrom().getSecretKeyRef().getKey();
  }

  @Test
  void kafkaTlsContradictingAPlaintextProtocolOrAMechanismTheJarLacksIsRefused() {
    String plaintext =
        refused(Map.of("kafka.tls.enabled", true, "kafka.security.protocol", "SASL_PLAINTEXT"));
    assertTrue(plaintext.contains("use SSL or SASL_SSL"), plaintext);
    String msk = refused(Map.of("kafka.security.saslMechanism", "AWS_MSK_IAM"));
    assertTrue(msk.contains("schema"), msk);
  }

  @Test
  void anIngressControllerInKubeSystemIsAdmittedOnlyWhenTheReleaseIsExposed() {
    NetworkPolicy closed = render(null, Map.of()).all(NetworkPolicy.class).get(0);
    assertFalse(
        admits(closed, "kube-system", Map.of("app.kubernetes.io/name", "traefik")),
        "not exposed: Traefik is not admitted");

    RenderedChart exposed =
        render(null, Map.of("ingress.enabled", true, "ingress.hosts.ingest", "ingest.example.com"));
    NetworkPolicy np = exposed.all(NetworkPolicy.class).get(0);
    assertTrue(
        admits(np, "kube-system", Map.of("app.kubernetes.io/name", "traefik")),
        "K3s' Traefik (kube-system) reaches the pods");
    assertFalse(
        admits(np, "kube-system", Map.of("app.kubernetes.io/name", "coredns")),
        "other kube-system pods are not admitted");
    Ingress ingress = exposed.one(Ingress.class, FULLNAME);
    assertEquals(1, ingress.getSpec().getRules().size(), "only the host that is set");
    assertEquals("gpu-telemetry-tls", ingress.getSpec().getTls().get(0).getSecretName());
    assertTrue(
        ingress.getMetadata().getAnnotations() == null
            || !ingress
                .getMetadata()
                .getAnnotations()
                .containsKey("cert-manager.io/cluster-issuer"),
        "no cert-manager annotation without an issuer");
    checkNetworkPolicy(exposed, np);
  }

  /** Whether a pod with these labels in this namespace may reach the http port. */
  static boolean admits(NetworkPolicy np, String namespace, Map<String, String> podLabels) {
    return np.getSpec().getIngress().stream()
        .flatMap(r -> r.getFrom().stream())
        .anyMatch(
            peer ->
                peer.getNamespaceSelector() != null
                    && selects(
                        peer.getNamespaceSelector(),
                        Map.of("kubernetes.io/metadata.name", namespace))
                    && (peer.getPodSelector() == null
                        || selects(peer.getPodSelector(), podLabels)));
  }

  @Test
  void httpRoutesAttachEachHostToItsServiceWhenTheGatewayApiIsInstalled() {
    Map<String, Object> values =
        Map.of(
            "httpRoute.enabled", true,
            "httpRoute.parentRefs[0].name", "public",
            "httpRoute.parentRefs[0].namespace", "gateway-system",
            "ingress.hosts.ingest", "ingest.example.com",
            "ingress.hosts.console", "console.example.com");
    RenderedChart absent = render(null, values);
    assertTrue(absent.custom("HTTPRoute").isEmpty(), "no Gateway API: no HTTPRoute");

    Map<String, Object> withApi = new LinkedHashMap<>(values);
    withApi.put("capabilities.apiVersions[0]", "gateway.networking.k8s.io/v1");
    RenderedChart chart = render(null, withApi);
    Map<String, String> routes = new LinkedHashMap<>();
    for (Map<String, Object> route : chart.custom("HTTPRoute")) {
      Map<String, Object> spec = map(route.get("spec"), "spec");
      assertEquals(
          "public", map(list(spec.get("parentRefs"), "parentRefs").get(0), "ref").get("name"));
      Map<String, Object> backend =
          map(
              list(map(list(spec.get("rules"), "rules").get(0), "rule").get("backendRefs"), "b")
                  .get(0),
              "backend");
      assertEquals(8080, ((Number) backend.get("port")).intValue());
      routes.put(
          (String) list(spec.get("hostnames"), "hostnames").get(0), (String) backend.get("name"));
    }
    assertEquals(Map.of("ingest.example.com", PRODUCER, "console.example.com", PROCESSOR), routes);
    assertTrue(
        admits(
            chart.all(NetworkPolicy.class).get(0),
            "kube-system",
            Map.of("app.kubernetes.io/name", "traefik")),
        "the Gateway implementation's namespace is admitted");
  }

  // ---------------------------------------------------------------- CRD-gated objects

  @Test
  void objectsOfAbsentApisAreSkippedTheProcessorFallsBackToCpuAndNotesSaySo() {
    Map<String, Object> wanted =
        Map.of(
            "monitoring.serviceMonitor.enabled", true,
            "monitoring.prometheusRule.enabled", true,
            "keda.enabled", true);
    RenderedChart chart = render(null, wanted);
    assertTrue(chart.custom("ServiceMonitor").isEmpty(), "no ServiceMonitor without its CRD");
    assertTrue(chart.custom("PrometheusRule").isEmpty(), "no PrometheusRule without its CRD");
    assertTrue(chart.custom("ScaledObject").isEmpty(), "no ScaledObject without KEDA");
    assertEquals(
        PROCESSOR,
        chart.one(HorizontalPodAutoscaler.class, PROCESSOR).getSpec().getScaleTargetRef().getName(),
        "without KEDA the processor still autoscales, on CPU");

    String notes = installNotes(null, wanted);
    assertTrue(notes.contains("SKIPPED"), notes);
    assertTrue(notes.contains("ServiceMonitor (monitoring.coreos.com/v1"), notes);
    assertTrue(notes.contains("PrometheusRule (monitoring.coreos.com/v1"), notes);
    assertTrue(notes.contains("KEDA ScaledObject (keda.sh/v1alpha1"), notes);
    assertTrue(notes.contains("processor: Deployment " + PROCESSOR), notes);
    assertTrue(notes.contains("(HPA on CPU, 1-6 replicas)"), notes);

    Map<String, Object> declared = new LinkedHashMap<>(wanted);
    declared.put("capabilities.apiVersions[0]", "monitoring.coreos.com/v1");
    declared.put("capabilities.apiVersions[1]", "keda.sh/v1alpha1/ScaledObject");
    RenderedChart full = render(null, declared);
    assertEquals(1, full.custom("ServiceMonitor").size());
    assertEquals(1, full.custom("PrometheusRule").size());
    assertEquals(1, full.custom("ScaledObject").size());
    assertFalse(installNotes(null, declared).contains("SKIPPED"));
  }

  static String installNotes(Path valuesFile, Map<String, Object> sets) {
    var install =
        new Helm(CHART).install().withName(RELEASE).withNamespace(NAMESPACE).clientOnly().dryRun();
    if (valuesFile != null) {
      install = install.withValuesFile(valuesFile);
    }
    for (Map.Entry<String, Object> e : sets.entrySet()) {
      install = install.set(e.getKey(), e.getValue());
    }
    return install.call().getOutput();
  }

  @Test
  void theServiceMonitorCarriesTheReleaseLabelAStockKubePrometheusStackSelects() {
    RenderedChart chart =
        render(
            null,
            Map.of(
                "monitoring.serviceMonitor.enabled",
                true,
                "capabilities.apiVersions[0]",
                "monitoring.coreos.com/v1"));
    Map<String, Object> labels =
        map(
            map(chart.custom("ServiceMonitor").get(0).get("metadata"), "metadata").get("labels"),
            "labels");
    assertEquals("kube-prometheus-stack", labels.get("release"), "default label");
    RenderedChart other =
        render(
            null,
            Map.of(
                "monitoring.serviceMonitor.enabled", true,
                "monitoring.serviceMonitor.labels.release", "prom",
                "capabilities.apiVersions[0]", "monitoring.coreos.com/v1"));
    assertEquals(
        "prom",
        map(
                map(other.custom("ServiceMonitor").get(0).get("metadata"), "metadata")
                    .get("labels"),
                "l")
            .get("release"),
        "configurable");
  }

  // ---------------------------------------------------------------- scaling and shutdown

  @Test
  void onlyTheKedaScaledProcessorMayScaleToZero() {
    Map<String, Object> zero = new LinkedHashMap<>();
    zero.put("roles.processor.autoscaling.minReplicas", 0);
    zero.put("keda.activationLagThreshold", 50);
    Map<String, Object> keda = new LinkedHashMap<>(zero);
    keda.put("keda.enabled", true);
    keda.put("capabilities.apiVersions[0]", "keda.sh/v1alpha1");
    Map<String, Object> spec =
        map(render(null, keda).custom("ScaledObject").get(0).get("spec"), "spec");
    assertEquals(0, ((Number) spec.get("minReplicaCount")).intValue(), "scale to zero");

    String hpa = refused(zero);
    assertTrue(hpa.contains("minReplicas 0 (scale to zero) needs KEDA"), hpa);
    String producer =
        refused(
            Map.of(
                "roles.producer.autoscaling.minReplicas",
                0,
                "keda.enabled",
                true,
                "capabilities.apiVersions[0]",
                "keda.sh/v1alpha1"));
    assertTrue(producer.contains("roles.producer"), producer);
  }

  @Test
  void aGracePeriodTooShortForPreStopAndDrainIsRefused() {
    String e = refused(Map.of("roles.processor.terminationGracePeriodSeconds", 40));
    assertTrue(e.contains("terminationGracePeriodSeconds (40) must exceed"), e);
    assertEquals(
        List.of("sleep", "10"),
        container(render(null, Map.of()), PRODUCER)
            .getLifecycle()
            .getPreStop()
            .getExec()
            .getCommand(),
        "the image's sleep binary (the pod spec's sleep action needs Kubernetes 1.30+)");
  }

  @Test
  void theProductionExampleShipsInThePackagedChart(@TempDir Path tmp) throws Exception {
    new Helm(CHART).packageIt().withDestination(tmp).call();
    Path tgz;
    try (Stream<Path> files = Files.list(tmp)) {
      tgz = files.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElseThrow();
    }
    Process tar = new ProcessBuilder("tar", "-tzf", tgz.toString()).start();
    Set<String> entries =
        new String(tar.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
            .lines()
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(0, tar.waitFor(), "tar -tzf " + tgz);
    assertTrue(entries.contains("gpu-telemetry/values-production.yaml"), "packaged: " + entries);
    assertTrue(
        entries.stream().noneMatch(n -> n.startsWith("gpu-telemetry/ci/")),
        "test scenarios stay out of the package");
  }

  /** The message with which the chart refuses to render these values. */
  static String refused(Map<String, Object> sets) {
    return assertThrows(
            IllegalStateException.class, () -> template(null, sets), sets + " was accepted")
        .getMessage();
  }

  // ---------------------------------------------------------------- failures the chart must refuse

  @Test
  void processorMaxReplicasAbovePartitionsFailsTheRender() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                template(CHART.resolve("ci/keda-values.yaml"), Map.of("kafka.topicPartitions", 4)));
    assertTrue(e.getMessage().contains("exceeds kafka.topicPartitions"), e.getMessage());
    IllegalStateException hpa =
        assertThrows(
            IllegalStateException.class,
            () -> template(null, Map.of("roles.processor.autoscaling.maxReplicas", 7)));
    assertTrue(
        hpa.getMessage().contains("maxReplicas (7) exceeds kafka.topicPartitions (6)"),
        hpa.getMessage());
  }

  @Test
  void schemaRejectsValuesOfTheWrongTypeOrUnknownKeys() {
    Map<String, String> bad =
        Map.of(
            "roles.processor.replicaCount", "two",
            "kafka.topicPartitions", "many",
            "log.format", "xml",
            "replicaCount", "3",
            "roles.producer.autoscaling.maxReplica", "3",
            "kafka.security.protocol", "SASL_TLS");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      IllegalStateException ex =
          assertThrows(
              IllegalStateException.class,
              () -> template(null, Map.of(e.getKey(), e.getValue())),
              e.getKey() + "=" + e.getValue() + " was accepted");
      assertTrue(ex.getMessage().contains("schema"), e.getKey() + ": " + ex.getMessage());
    }
  }

  @Test
  void schemaDescribesEveryValue() throws IOException {
    Map<?, ?> schema =
        RenderedChart.YAML.readValue(CHART.resolve("values.schema.json").toFile(), Map.class);
    Map<?, ?> values =
        RenderedChart.YAML.readValue(CHART.resolve("values.yaml").toFile(), Map.class);
    List<String> problems = new ArrayList<>();
    checkSchemaCovers(schema, schema, values, "", problems);
    assertTrue(problems.isEmpty(), "values without a typed, described schema entry: " + problems);
  }

  @SuppressWarnings("unchecked")
  private static void checkSchemaCovers(
      Map<?, ?> root, Map<?, ?> node, Object value, String path, List<String> problems) {
    Map<?, ?> resolved = resolve(root, node);
    if (node.get("description") == null && resolved.get("description") == null) {
      problems.add(path + " (no description)");
    }
    if (resolved.get("type") == null) {
      problems.add(path + " (no type)");
    }
    if (value instanceof Map<?, ?> m && !m.isEmpty()) {
      Map<String, Object> props = (Map<String, Object>) resolved.get("properties");
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String child = path.isEmpty() ? e.getKey().toString() : path + "." + e.getKey();
        Object sub = props == null ? null : props.get(e.getKey().toString());
        if (sub == null && resolved.get("additionalProperties") instanceof Map<?, ?> addl) {
          sub = addl;
        }
        if (sub == null) {
          if (!(resolved.get("type").equals("object")
              && props == null
              && !Boolean.FALSE.equals(resolved.get("additionalProperties")))) {
            problems.add(child + " (not in the schema)");
          }
          continue;
        }
        checkSchemaCovers(root, (Map<?, ?>) sub, e.getValue(), child, problems);
      }
    }
  }

  private static Map<?, ?> resolve(Map<?, ?> root, Map<?, ?> node) {
    Object allOf = node.get("allOf");
    if (allOf instanceof List<?> l
        && l.size() == 1
        && l.get(0) instanceof Map<?, ?> m
        && m.get("$ref") != null) {
      String ref = m.get("$ref").toString();
      Map<?, ?> definitions = (Map<?, ?>) root.get("definitions");
      return (Map<?, ?>) definitions.get(ref.substring("#/definitions/".length()));
    }
    return node;
  }

  // ---------------------------------------------------------------- helm test pod and NOTES

  @Test
  void helmTestPodRunsVerifyWithTheProcessorsSettings(@TempDir Path tmp) throws IOException {
    // `helm template` through the library leaves hooks out: render a copy where the test Pod is a
    // plain manifest.
    Path chart = copyChart(tmp);
    Path pod = chart.resolve("templates/tests/verify-pod.yaml");
    String text = Files.readString(pod);
    assertTrue(text.contains("helm.sh/hook: test"), "the verify Pod is a helm test hook");
    Files.writeString(pod, text.replace("helm.sh/hook: test", "gpu-telemetry/was-hook: test"));
    for (String scenario : List.of("production", "dev-inchart")) {
      RenderedChart rendered =
          RenderedChart.parse(
              template(chart, chart.resolve(CHART.relativize(scenarioFile(scenario))), Map.of()));
      Pod verify =
          rendered.all(Pod.class).stream()
              .filter(
                  p ->
                      "verify"
                          .equals(p.getMetadata().getLabels().get("app.kubernetes.io/component")))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no verify Pod"));
      assertEquals("Never", verify.getSpec().getRestartPolicy());
      Container c = verify.getSpec().getContainers().get(0);
      Container processor = container(rendered, PROCESSOR);
      assertEquals("verify", c.getArgs().get(0));
      assertEquals(processor.getImage(), c.getImage());
      assertEquals(FULLNAME + "-config", c.getEnvFrom().get(0).getConfigMapRef().getName());
      assertEquals(
          env(processor).keySet(),
          env(c).keySet(),
          scenario + ": same secret settings as the processor");
      assertEquals(
          processor.getVolumeMounts().stream().map(m -> m.getMountPath()).toList(),
          c.getVolumeMounts().stream().map(m -> m.getMountPath()).toList(),
          scenario + ": same files (the Kafka CA) as the processor");
      checkSecretsByReference("verify", c);
      PodSpec spec = verify.getSpec();
      checkPodSecurity("verify", spec);
      assertTrue(
          selects(
              rendered.all(NetworkPolicy.class).get(0).getSpec().getPodSelector(),
              verify.getMetadata().getLabels()),
          "the NetworkPolicy's egress rules cover the verify Pod");
    }
  }

  @Test
  void notesRenderWithTheHelmTestCommand() {
    Release release =
        new Helm(CHART)
            .install()
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .withValuesFile(PRODUCTION)
            .clientOnly()
            .dryRun()
            .call();
    String notes = release.getOutput();
    assertTrue(notes.contains("helm test " + RELEASE + " -n " + NAMESPACE), notes);
    assertTrue(notes.contains("KEDA on consumer lag, 3-12 replicas"), notes);
  }

  // ---------------------------------------------------------------- helpers

  // ---------------------------------------------------------------- collector

  @Test
  void theCollectorDiscoversTheGpuOperatorsExportersWithReadOnlyPodAccessThere() {
    RenderedChart chart = render("collector");
    String collector = FULLNAME + "-collector";
    Deployment d = chart.one(Deployment.class, collector);
    assertEquals(1, d.getSpec().getReplicas(), "one replica by default");
    assertEquals(List.of("--role", "producer"), container(chart, collector).getArgs());
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertEquals(collector, pod.getServiceAccountName());
    assertEquals(Boolean.TRUE, pod.getAutomountServiceAccountToken());
    assertEquals(
        Boolean.TRUE, chart.one(ServiceAccount.class, collector).getAutomountServiceAccountToken());
    Map<String, String> config = chart.configData(FULLNAME + "-config", collector);
    assertEquals("false", config.get("GPUTEL_SIMULATOR_ENABLED"));
    assertEquals("false", config.get("GPUTEL_INGEST_ENABLED"));
    assertEquals("gpu-operator", config.get("GPUTEL_SOURCES_DCGM_KUBERNETES_NAMESPACES"));
    assertEquals("app=nvidia-dcgm-exporter", config.get("GPUTEL_SOURCES_DCGM_KUBERNETES_SELECTOR"));
    assertEquals("metrics", config.get("GPUTEL_SOURCES_DCGM_KUBERNETES_PORT"));
    assertEquals("30s", config.get("GPUTEL_SOURCES_DCGM_INTERVAL"));
    assertEquals(
        "llm/vllm-llama-70b-.*=llama-3.1-70b-instruct", config.get("GPUTEL_SOURCES_MODEL_MAP"));
    // The producer keeps its own config: no sources, the simulator as configured.
    assertFalse(
        chart.configData(PRODUCER).containsKey("GPUTEL_SOURCES_DCGM_KUBERNETES_NAMESPACES"));

    Map<String, Object> role = chart.customOne("Role", collector);
    assertEquals("gpu-operator", map(role.get("metadata"), "metadata").get("namespace"));
    assertEquals(
        List.of(
            Map.of(
                "apiGroups", List.of(""),
                "resources", List.of("pods"),
                "verbs", List.of("get", "list", "watch"))),
        role.get("rules"));
    Map<String, Object> binding = chart.customOne("RoleBinding", collector);
    assertEquals("gpu-operator", map(binding.get("metadata"), "metadata").get("namespace"));
    assertEquals(
        Map.of("apiGroup", "rbac.authorization.k8s.io", "kind", "Role", "name", collector),
        binding.get("roleRef"));
    assertEquals(
        List.of(Map.of("kind", "ServiceAccount", "name", collector, "namespace", NAMESPACE)),
        binding.get("subjects"));
    assertEquals(1, chart.custom("Role").size(), "one Role per namespace listed");
  }

  @Test
  void noCollectorNoRbacByDefault() {
    RenderedChart chart = render(null, Map.of());
    assertFalse(names(chart.all(Deployment.class)).contains(FULLNAME + "-collector"));
    assertTrue(chart.custom("Role").isEmpty());
    assertTrue(chart.custom("RoleBinding").isEmpty());
    assertEquals(Set.of(FULLNAME), names(chart.all(ServiceAccount.class)));
  }

  static Container container(RenderedChart chart, String deployment) {
    return chart
        .one(Deployment.class, deployment)
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0);
  }

  static Set<String> names(List<? extends io.fabric8.kubernetes.api.model.HasMetadata> objects) {
    return objects.stream()
        .map(o -> o.getMetadata().getName())
        .collect(Collectors.toCollection(HashSet::new));
  }

  static Path copyChart(Path tmp) throws IOException {
    Path target = tmp.resolve("gpu-telemetry");
    try (Stream<Path> files = Files.walk(CHART)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path dest = target.resolve(CHART.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(p, dest);
        }
      }
    }
    return target;
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
