package io.gputelemetry.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A rendered chart: every document parsed strictly into its fabric8 model class (a misspelt or
 * misplaced field fails), custom resources kept as maps.
 */
final class RenderedChart {

  /** Built-in kinds we render, with the apiVersion each must carry. */
  private static final Map<String, Kind> TYPED =
      Map.of(
          "Deployment", new Kind("apps/v1", Deployment.class),
          "StatefulSet", new Kind("apps/v1", StatefulSet.class),
          "Service", new Kind("v1", Service.class),
          "ConfigMap", new Kind("v1", ConfigMap.class),
          "ServiceAccount", new Kind("v1", ServiceAccount.class),
          "Pod", new Kind("v1", Pod.class),
          "HorizontalPodAutoscaler", new Kind("autoscaling/v2", HorizontalPodAutoscaler.class),
          "PodDisruptionBudget", new Kind("policy/v1", PodDisruptionBudget.class),
          "NetworkPolicy", new Kind("networking.k8s.io/v1", NetworkPolicy.class),
          "Ingress", new Kind("networking.k8s.io/v1", Ingress.class));

  /** Custom resources, checked as maps (their CRDs' model classes are not on the classpath). */
  private static final Map<String, String> CUSTOM =
      Map.of(
          "ServiceMonitor", "monitoring.coreos.com/v1",
          "PrometheusRule", "monitoring.coreos.com/v1",
          "ScaledObject", "keda.sh/v1alpha1",
          "TriggerAuthentication", "keda.sh/v1alpha1",
          "HTTPRoute", "gateway.networking.k8s.io/v1",
          // RBAC: no model module on the classpath for it either.
          "Role", "rbac.authorization.k8s.io/v1",
          "RoleBinding", "rbac.authorization.k8s.io/v1");

  private static final Pattern DOC_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  /** Plain YAML reader for the first look at a document and for custom resources. */
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * Strict reader. The fabric8 classes collect unknown fields through {@code @JsonAnySetter}, which
   * would make FAIL_ON_UNKNOWN_PROPERTIES a no-op: switching any-setters off makes it bite.
   */
  static final ObjectMapper STRICT =
      new ObjectMapper(new YAMLFactory())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
          .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
          .setAnnotationIntrospector(
              new JacksonAnnotationIntrospector() {
                private static final long serialVersionUID = 1L;

                @Override
                public Boolean hasAnySetter(Annotated a) {
                  return Boolean.FALSE;
                }

                @Override
                public JsonIgnoreProperties.Value findPropertyIgnoralByName(
                    MapperConfig<?> config, Annotated a) {
                  return JsonIgnoreProperties.Value.empty();
                }
              });

  private record Kind(String apiVersion, Class<? extends HasMetadata> type) {}

  final String source;
  final List<HasMetadata> objects = new ArrayList<>();
  final List<Map<String, Object>> customResources = new ArrayList<>();

  private RenderedChart(String source) {
    this.source = source;
  }

  static RenderedChart parse(String manifest) {
    RenderedChart chart = new RenderedChart(manifest);
    for (String doc : DOC_SEPARATOR.split(manifest)) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
        continue;
      }
      Map<String, Object> raw;
      try {
        raw = YAML.readValue(doc, new TypeReference<LinkedHashMap<String, Object>>() {});
      } catch (Exception e) {
        throw new AssertionError(
            "rendered document is not valid YAML: " + e.getMessage() + "\n" + doc, e);
      }
      String kind = (String) raw.get("kind");
      String apiVersion = (String) raw.get("apiVersion");
      assertNotNull(kind, "document without kind:\n" + doc);
      Kind typed = TYPED.get(kind);
      if (typed != null) {
        assertEquals(typed.apiVersion(), apiVersion, "apiVersion of " + kind);
        try {
          chart.objects.add(STRICT.readValue(doc, typed.type()));
        } catch (Exception e) {
          throw new AssertionError(
              kind + " does not parse strictly: " + e.getMessage() + "\n" + doc, e);
        }
      } else if (CUSTOM.containsKey(kind)) {
        assertEquals(CUSTOM.get(kind), apiVersion, "apiVersion of " + kind);
        chart.customResources.add(raw);
      } else {
        fail("unexpected kind " + kind + " (register it in RenderedChart to check it):\n" + doc);
      }
    }
    return chart;
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    return all(type).stream()
        .filter(o -> o.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    "no "
                        + type.getSimpleName()
                        + " named "
                        + name
                        + "; have "
                        + all(type).stream().map(o -> o.getMetadata().getName()).toList()));
  }

  List<Map<String, Object>> custom(String kind) {
    return customResources.stream()
        .filter(r -> kind.equals(r.get("kind")))
        .collect(Collectors.toList());
  }

  Map<String, Object> customOne(String kind, String name) {
    return custom(kind).stream()
        .filter(r -> name.equals(((Map<?, ?>) r.get("metadata")).get("name")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
  }

  /** All data of the ConfigMaps a container reads through envFrom. */
  Map<String, String> configData(String... names) {
    Map<String, String> data = new LinkedHashMap<>();
    for (String name : names) {
      Map<String, String> d = one(ConfigMap.class, name).getData();
      if (d != null) {
        data.putAll(d);
      }
    }
    return data;
  }

  /** Whether a label selector (matchLabels and matchExpressions) selects these labels. */
  static boolean selects(LabelSelector selector, Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
        if (!Objects.equals(l.get(e.getKey()), e.getValue())) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        String v = l.get(r.getKey());
        boolean ok =
            switch (r.getOperator()) {
              case "In" -> v != null && r.getValues().contains(v);
              case "NotIn" -> v == null || !r.getValues().contains(v);
              case "Exists" -> v != null;
              case "DoesNotExist" -> v == null;
              default -> throw new AssertionError("unknown selector operator " + r.getOperator());
            };
        if (!ok) {
          return false;
        }
      }
    }
    return true;
  }

  static boolean selects(Map<String, String> matchLabels, Map<String, String> labels) {
    return selects(new LabelSelector(null, matchLabels), labels);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o, String what) {
    assertNotNull(o, what + " is missing");
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o, String what) {
    assertNotNull(o, what + " is missing");
    return (List<Object>) o;
  }
}
