package org.elasticsearch.node;

import java.util.Collection;
import java.util.Map;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

/**
 * A production {@link Node} whose plugins are classes on the class path (what the test
 * framework's MockNode does, without its randomized-testing environment and mock services).
 * It lives in this package because {@code Node(NodeConstruction)} and {@code NodeServiceProvider}
 * are package-private.
 */
public final class ClasspathNode extends Node {

    public ClasspathNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(
            InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "bastion-test"),
            null, new Provider(plugins), true));
    }

    static final class Provider extends NodeServiceProvider {
        private final Collection<Class<? extends Plugin>> plugins;

        Provider(Collection<Class<? extends Plugin>> plugins) {
            this.plugins = plugins;
        }

        @Override
        PluginsService newPluginService(Environment environment, PluginsLoader loader) {
            return new MockPluginsService(environment.settings(), environment, plugins);
        }
    }
}
