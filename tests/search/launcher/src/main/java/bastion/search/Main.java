package bastion.search;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Runs one embedded OpenSearch node for the audit search tests.
 *
 * <p>Usage: {@code java -cp target/classes:target/lib/* bastion.search.Main HTTP_PORT HOME_DIR}.
 * The node listens on 127.0.0.1 only, forms a single-node cluster, has no security plugin,
 * and keeps its data and logs under HOME_DIR. It prints {@code ready http=PORT} once the
 * HTTP layer is bound, and exits cleanly on SIGTERM (a JVM shutdown hook closes the node).
 */
public final class Main {

    /** A Node that loads plugins from the classpath instead of a plugins/ directory. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Settings settings, List<Class<? extends Plugin>> plugins) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, java.util.Map.of(), null, () -> "bastion-test"),
                  plugins, true);
        }
    }

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Main HTTP_PORT HOME_DIR");
            System.exit(2);
        }
        String port = args[0];
        Path home = Path.of(args[1]).toAbsolutePath();
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "bastion-test")
            .put("node.name", "bastion-test")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("cluster.routing.allocation.disk.threshold_enabled", "false")
            .put("action.auto_create_index", "true")
            .put("indices.query.bool.max_clause_count", "4096")
            .build();
        LogConfigurator.configureWithoutConfig(settings);
        Node node = new ClasspathNode(settings, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "bastion-test-shutdown"));
        node.start();
        System.out.println("ready http=" + port);
        System.out.flush();
        stopped.await();
    }
}
