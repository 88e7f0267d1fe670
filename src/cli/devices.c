/* devices.c -- `mullama devices`: the Vulkan devices the loader reports,
 * with type and device-local memory, and which one offload would use
 * (MULLAMA_VULKAN_DEVICE, else the first GPU; CPU devices such as lavapipe
 * only when named).  --json for scripts.  No device at all: a note on stderr,
 * exit 0 (not an error: the CPU path still works). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mullama/vulkan.h"

int cmd_devices(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "devices", "", "List Vulkan devices for --gpu-layers / GPU_LAYERS",
                "Set MULLAMA_VULKAN_DEVICE=INDEX|NAME to choose one; a CPU device "
                "(lavapipe) is used only when chosen that way."};
        int json = 0, np = 0, rc, n;
        char **pos = NULL;
        const struct opt opts[] = {
                {"json", 0, OPT_BOOL, &json, NULL, "print JSON"},
                {0},
        };
        struct mu_vk_device d[16];
        struct mu_err err = {0};
        struct mu_vk *vk = NULL;

        (void)cfg;
        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        free(pos);
        if (rc != OPT_OK)
                return rc == OPT_HELP ? 0 : MU_EXIT_USAGE;
        if (np > 0)
                return opt_error(&u, "unexpected argument");
        n = mu_vk_devices(d, 16, &err);
        if (n < 0) {
                fprintf(stderr, "devices: %s; mullama runs on the CPU\n", err.msg);
                if (json)
                        printf("[]\n");
                return 0;
        }
        const char *chosen = NULL;
        if (n > 0 && mu_vk_init(&vk, &err) == 0)
                chosen = mu_vk_info(vk)->name;
        if (json) {
                cJSON *a = cJSON_CreateArray();
                for (int i = 0; i < n && i < 16; i++) {
                        cJSON *o = cJSON_CreateObject();
                        cJSON_AddNumberToObject(o, "index", i);
                        cJSON_AddStringToObject(o, "name", d[i].name);
                        cJSON_AddStringToObject(o, "type", d[i].type);
                        cJSON_AddNumberToObject(o, "memory_bytes", (double)d[i].mem_bytes);
                        cJSON_AddBoolToObject(o, "selected", chosen && !strcmp(chosen, d[i].name));
                        cJSON_AddItemToArray(a, o);
                }
                char *s = cJSON_Print(a);
                printf("%s\n", s);
                free(s);
                cJSON_Delete(a);
        } else {
                printf("%-5s %-10s %10s  %s\n", "INDEX", "TYPE", "MEMORY", "NAME");
                for (int i = 0; i < n && i < 16; i++)
                        printf("%-5d %-10s %7.1f GiB  %s%s\n", i, d[i].type,
                               (double)d[i].mem_bytes / (1 << 30), d[i].name,
                               chosen && !strcmp(chosen, d[i].name) ? "  (selected)" : "");
                if (!chosen)
                        fprintf(stderr, "devices: %s\n", n ? err.msg : "no Vulkan devices");
        }
        mu_vk_free(vk);
        return 0;
}
