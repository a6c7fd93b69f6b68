package bastion.search.es;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * Runs one embedded Elasticsearch 9 node for the audit search tests.
 *
 * <p>Usage: {@code java -cp target/classes:target/lib/* bastion.search.es.Main HTTP_PORT HOME_DIR [KEY=VALUE...]}.
 * The node listens on 127.0.0.1 only, forms a single-node cluster (unless a KEY=VALUE sets
 * {@code discovery.seed_hosts}), has no security (no x-pack on the class path), and keeps its
 * data and logs under HOME_DIR. KEY=VALUE pairs override node settings (the cluster test
 * names its nodes and ports). It prints {@code ready http=PORT} once started, and exits
 * cleanly on SIGTERM (a JVM shutdown hook closes the node).
 */
public final class Main {

    private Main() {
    }

    static Settings settings(String port, Path home, List<String> overrides) {
        Settings.Builder b = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "bastion-test")
            .put("node.name", "bastion-test")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            .put("http.type", Netty4Plugin.NETTY_HTTP_TRANSPORT_NAME)
            .put("transport.type", Netty4Plugin.NETTY_TRANSPORT_NAME)
            .put("cluster.routing.allocation.disk.threshold_enabled", "false")
            .put("action.auto_create_index", "true");
        for (String kv : overrides) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("not KEY=VALUE: " + kv);
            }
            b.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        if (b.get("discovery.seed_hosts") != null) {
            b.remove("discovery.type");
        }
        return b.build();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Main HTTP_PORT HOME_DIR [KEY=VALUE...]");
            System.exit(2);
        }
        Path home = Path.of(args[1]).toAbsolutePath();
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Settings settings = settings(args[0], home, List.of(args).subList(2, args.length));
        LogConfigurator.loadLog4jPlugins();
        LogConfigurator.configureESLogging();
        LogConfigurator.configureWithoutConfig(settings);
        Node node = new ClasspathNode(settings, List.of(Netty4Plugin.class, CommonAnalysis.class));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "bastion-test-shutdown"));
        node.start();
        System.out.println("ready http=" + args[0]);
        System.out.flush();
        stopped.await();
    }
}
