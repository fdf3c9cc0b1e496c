import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Watches a store fill up and measures the processes doing it. Polls the document count of the
 * given collections (the count command, cheap on the stand-in) and, at the first count above zero
 * when it passes half the target and when it reaches the target, reads the CPU time (utime+stime)
 * of each watched pid from /proc, and separately that of its JIT compiler threads; at the end also
 * its peak RSS (VmHWM). The second half of a drain meets JVMs that have compiled their hot code, so
 * its figures are the warm cost per event. Prints one key=value line. Exit 1 when the count stops
 * moving for longer than the stall limit, 2 when it overshoots the target.
 *
 * <p>DrainWatch URI DB COLL[,COLL] TARGET PID[,PID] INTERVAL_MS STALL_S
 */
public final class DrainWatch {
  public static void main(String[] a) throws Exception {
    String uri = a[0];
    String db = a[1];
    String[] colls = a[2].split(",");
    long target = Long.parseLong(a[3]);
    String[] pids = a[4].split(",");
    long interval = Long.parseLong(a[5]);
    long stallNanos = Long.parseLong(a[6]) * 1_000_000_000L;
    long tick = 100; // USER_HZ on Linux
    try (MongoClient c = MongoClients.create(uri)) {
      MongoDatabase d = c.getDatabase(db);
      long startNs = System.nanoTime();
      long firstNs = -1, firstCount = 0;
      long[] firstCpu = new long[pids.length];
      long[] firstJit = new long[pids.length];
      long halfNs = -1, halfCount = 0;
      long[] halfCpu = new long[pids.length];
      long[] halfJit = new long[pids.length];
      long lastCount = -1, lastMoveNs = startNs;
      long count;
      while (true) {
        count = 0;
        for (String coll : colls) {
          count += d.getCollection(coll).estimatedDocumentCount();
        }
        long now = System.nanoTime();
        if (count > 0 && firstNs < 0) {
          firstNs = now;
          firstCount = count;
          for (int i = 0; i < pids.length; i++) {
            firstCpu[i] = cpuTicks(pids[i]);
            firstJit[i] = jitTicks(pids[i]);
          }
        }
        if (count >= target / 2 && halfNs < 0) {
          halfNs = now;
          halfCount = count;
          for (int i = 0; i < pids.length; i++) {
            halfCpu[i] = cpuTicks(pids[i]);
            halfJit[i] = jitTicks(pids[i]);
          }
        }
        if (count != lastCount) {
          lastCount = count;
          lastMoveNs = now;
        }
        if (count >= target) {
          break;
        }
        if (now - lastMoveNs > stallNanos) {
          System.out.println("result=stalled count=" + count + " target=" + target);
          System.exit(1);
        }
        Thread.sleep(interval);
      }
      long doneNs = System.nanoTime();
      StringBuilder out = new StringBuilder();
      out.append(count == target ? "result=ok" : "result=overshoot");
      out.append(" count=").append(count).append(" target=").append(target);
      out.append(" first_count=").append(firstCount);
      out.append(" wall_total_s=").append(fmt((doneNs - startNs) / 1e9));
      out.append(" wall_steady_s=").append(fmt((doneNs - firstNs) / 1e9));
      out.append(" half_count=").append(halfCount);
      out.append(" wall_half_s=").append(fmt((doneNs - halfNs) / 1e9));
      for (int i = 0; i < pids.length; i++) {
        long cpu = cpuTicks(pids[i]);
        long jit = jitTicks(pids[i]);
        out.append(" cpu_half_s_")
            .append(i)
            .append('=')
            .append(fmt((double) (cpu - halfCpu[i]) / tick));
        out.append(" jit_steady_s_")
            .append(i)
            .append('=')
            .append(fmt((double) (jit - firstJit[i]) / tick));
        out.append(" jit_half_s_")
            .append(i)
            .append('=')
            .append(fmt((double) (jit - halfJit[i]) / tick));
        out.append(" cpu_total_s_").append(i).append('=').append(fmt((double) cpu / tick));
        out.append(" cpu_steady_s_")
            .append(i)
            .append('=')
            .append(fmt((double) (cpu - firstCpu[i]) / tick));
        out.append(" hwm_kib_").append(i).append('=').append(hwm(pids[i]));
      }
      System.out.println(out);
      System.exit(count == target ? 0 : 2);
    }
  }

  static long cpuTicks(String pid) throws Exception {
    String s = Files.readString(Path.of("/proc", pid, "stat"));
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    // After "pid (comm) ": state is field 3, utime 14, stime 15 -> indexes 11 and 12 here.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * CPU ticks of the JVM's JIT compiler threads (named "C1 CompilerThre…" / "C2 CompilerThre…").
   */
  static long jitTicks(String pid) throws Exception {
    long sum = 0;
    try (var tasks = Files.list(Path.of("/proc", pid, "task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          if (Files.readString(t.resolve("comm")).startsWith("C")
              && Files.readString(t.resolve("comm")).contains("CompilerThre")) {
            sum += cpuTicks(pid + "/task/" + t.getFileName());
          }
        } catch (java.io.IOException gone) {
          // the thread ended between listing and reading
        }
      }
    }
    return sum;
  }

  static long hwm(String pid) throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc", pid, "status")));
    for (String l : lines) {
      if (l.startsWith("VmHWM:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.3f", v);
  }
}
