/* vulkan.c -- the Vulkan device context: instance, physical device choice
 * (see include/mullama/vulkan.h), one compute queue, buffers and staging
 * copies, the compute pipelines (SPIR-V compiled from shaders/ at build time
 * by glslc and embedded here), and recorded graphs (vulkan_impl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/types.h"

#ifdef MU_HAVE_VULKAN
#include "kernels/vulkan_impl.h"

/* ---- embedded SPIR-V (generated into $(BUILD)/shaders/) -------------------- */

#define SPV(name) static const uint32_t spv_##name[] =
SPV(mm_f32)
#include "shaders/mul_mat_f32.h"
;
SPV(mm_f16)
#include "shaders/mul_mat_f16.h"
;
SPV(mm_bf16)
#include "shaders/mul_mat_bf16.h"
;
SPV(mm_q4_0)
#include "shaders/mul_mat_q4_0.h"
;
SPV(mm_q4_1)
#include "shaders/mul_mat_q4_1.h"
;
SPV(mm_q5_0)
#include "shaders/mul_mat_q5_0.h"
;
SPV(mm_q5_1)
#include "shaders/mul_mat_q5_1.h"
;
SPV(mm_q8_0)
#include "shaders/mul_mat_q8_0.h"
;
SPV(mm_q2_k)
#include "shaders/mul_mat_q2_k.h"
;
SPV(mm_q3_k)
#include "shaders/mul_mat_q3_k.h"
;
SPV(mm_q4_k)
#include "shaders/mul_mat_q4_k.h"
;
SPV(mm_q5_k)
#include "shaders/mul_mat_q5_k.h"
;
SPV(mm_q6_k)
#include "shaders/mul_mat_q6_k.h"
;
SPV(q8_0)
#include "shaders/quantize_q8_0.h"
;
SPV(q8_1)
#include "shaders/quantize_q8_1.h"
;
SPV(q8_k)
#include "shaders/quantize_q8_k.h"
;
SPV(rmsnorm)
#include "shaders/rmsnorm.h"
;
SPV(rope)
#include "shaders/rope.h"
;
SPV(kv_store)
#include "shaders/kv_store.h"
;
SPV(attn)
#include "shaders/attn.h"
;
SPV(glu)
#include "shaders/glu.h"
;
SPV(add)
#include "shaders/add.h"
;
SPV(softcap)
#include "shaders/softcap.h"
;
SPV(copy)
#include "shaders/copy.h"
;
SPV(fmath)
#include "shaders/fmath.h"
;
#undef SPV

static const struct {
        const uint32_t *code;
        size_t size;
} spv_table[VKP_COUNT] = {
#define E(p, n) [p] = {spv_##n, sizeof(spv_##n)}
        E(VKP_MM_F32, mm_f32), E(VKP_MM_F16, mm_f16), E(VKP_MM_BF16, mm_bf16),
        E(VKP_MM_Q4_0, mm_q4_0), E(VKP_MM_Q4_1, mm_q4_1), E(VKP_MM_Q5_0, mm_q5_0),
        E(VKP_MM_Q5_1, mm_q5_1), E(VKP_MM_Q8_0, mm_q8_0), E(VKP_MM_Q2_K, mm_q2_k),
        E(VKP_MM_Q3_K, mm_q3_k), E(VKP_MM_Q4_K, mm_q4_k), E(VKP_MM_Q5_K, mm_q5_k),
        E(VKP_MM_Q6_K, mm_q6_k), E(VKP_Q8_0, q8_0), E(VKP_Q8_1, q8_1), E(VKP_Q8_K, q8_k),
        E(VKP_RMSNORM, rmsnorm), E(VKP_ROPE, rope), E(VKP_KV_STORE, kv_store),
        E(VKP_ATTN, attn), E(VKP_GLU, glu), E(VKP_ADD, add), E(VKP_SOFTCAP, softcap),
        E(VKP_COPY, copy), E(VKP_FMATH, fmath),
#undef E
};

int vk_mm_pipe(int type)
{
        switch (type) {
        case MU_TYPE_F32: return VKP_MM_F32;
        case MU_TYPE_F16: return VKP_MM_F16;
        case MU_TYPE_BF16: return VKP_MM_BF16;
        case MU_TYPE_Q4_0: return VKP_MM_Q4_0;
        case MU_TYPE_Q4_1: return VKP_MM_Q4_1;
        case MU_TYPE_Q5_0: return VKP_MM_Q5_0;
        case MU_TYPE_Q5_1: return VKP_MM_Q5_1;
        case MU_TYPE_Q8_0: return VKP_MM_Q8_0;
        case MU_TYPE_Q2_K: return VKP_MM_Q2_K;
        case MU_TYPE_Q3_K: return VKP_MM_Q3_K;
        case MU_TYPE_Q4_K: return VKP_MM_Q4_K;
        case MU_TYPE_Q5_K: return VKP_MM_Q5_K;
        case MU_TYPE_Q6_K: return VKP_MM_Q6_K;
        default: return -1;
        }
}

/* Same choice as the CPU's vec_dot_type (kernels/quant.c). */
int vk_quant_pipe(int type)
{
        switch (type) {
        case MU_TYPE_Q4_0: case MU_TYPE_Q5_0: case MU_TYPE_Q8_0: return VKP_Q8_0;
        case MU_TYPE_Q4_1: case MU_TYPE_Q5_1: return VKP_Q8_1;
        case MU_TYPE_Q2_K: case MU_TYPE_Q3_K: case MU_TYPE_Q4_K: case MU_TYPE_Q5_K:
        case MU_TYPE_Q6_K: return VKP_Q8_K;
        default: return -1;
        }
}

/* ---- instance and devices ------------------------------------------------ */

static int vk_check(VkResult r, struct mu_err *err, const char *what)
{
        if (r == VK_SUCCESS)
                return 0;
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
                return mu_fail(err, MU_ENOMEM, "vulkan: %s: out of %s memory", what,
                               r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? "device" : "host");
        return mu_fail(err, MU_EIO, "vulkan: %s failed (VkResult %d)", what, (int)r);
}

static int instance_create(VkInstance *inst, struct mu_err *err)
{
        VkApplicationInfo app = {
                .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                .pApplicationName = "mullama",
                .apiVersion = VK_API_VERSION_1_1,
        };
        VkInstanceCreateInfo ci = {
                .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                .pApplicationInfo = &app,
        };
        VkResult r = vkCreateInstance(&ci, NULL, inst);

        if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
                return mu_fail(err, MU_ENOTFOUND, "vulkan: no driver installed");
        return vk_check(r, err, "vkCreateInstance");
}

static void describe(VkPhysicalDevice pd, struct mu_vk_device *d)
{
        VkPhysicalDeviceProperties p;
        VkPhysicalDeviceMemoryProperties mp;

        vkGetPhysicalDeviceProperties(pd, &p);
        vkGetPhysicalDeviceMemoryProperties(pd, &mp);
        memset(d, 0, sizeof(*d));
        snprintf(d->name, sizeof(d->name), "%s", p.deviceName);
        switch (p.deviceType) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: d->type = "discrete"; break;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: d->type = "integrated"; break;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: d->type = "virtual"; break;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: d->type = "cpu"; break;
        default: d->type = "other"; break;
        }
        for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
                if ((mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
                    mp.memoryHeaps[i].size > d->mem_bytes)
                        d->mem_bytes = mp.memoryHeaps[i].size;
        d->api_major = (int)VK_API_VERSION_MAJOR(p.apiVersion);
        d->api_minor = (int)VK_API_VERSION_MINOR(p.apiVersion);
}

/* Physical devices with a compute queue; *n in: capacity. */
static int list_devices(VkInstance inst, VkPhysicalDevice *pds, uint32_t *n, struct mu_err *err)
{
        VkPhysicalDevice all[32];
        uint32_t na = 32, k = 0;
        VkResult r = vkEnumeratePhysicalDevices(inst, &na, all);

        if (r != VK_SUCCESS && r != VK_INCOMPLETE)
                return vk_check(r, err, "vkEnumeratePhysicalDevices");
        for (uint32_t i = 0; i < na && k < *n; i++) {
                VkQueueFamilyProperties qf[16];
                uint32_t nq = 16, ok = 0;
                vkGetPhysicalDeviceQueueFamilyProperties(all[i], &nq, qf);
                for (uint32_t q = 0; q < nq; q++)
                        ok |= (qf[q].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
                if (ok)
                        pds[k++] = all[i];
        }
        *n = k;
        return 0;
}

int mu_vk_devices(struct mu_vk_device *out, int max, struct mu_err *err)
{
        VkInstance inst;
        VkPhysicalDevice pds[32];
        uint32_t n = 32;
        int rc;

        if ((rc = instance_create(&inst, err)) < 0)
                return rc;
        if ((rc = list_devices(inst, pds, &n, err)) == 0) {
                for (uint32_t i = 0; i < n && (int)i < max; i++)
                        describe(pds[i], &out[i]);
                rc = (int)n;
        }
        vkDestroyInstance(inst, NULL);
        return rc;
}

/* MULLAMA_VULKAN_DEVICE, else the best GPU; -1 when none qualifies. */
static int choose_device(VkPhysicalDevice *pds, uint32_t n, struct mu_err *err)
{
        const char *env = getenv("MULLAMA_VULKAN_DEVICE");
        struct mu_vk_device d;
        int best = -1, best_rank = 0;

        if (env && *env) {
                char *end;
                long idx = strtol(env, &end, 10);
                if (*end == 0) {
                        if (idx < 0 || idx >= (long)n)
                                return mu_fail(err, MU_ENOTFOUND, "MULLAMA_VULKAN_DEVICE=%s: "
                                               "there are %u Vulkan devices", env, n);
                        return (int)idx;
                }
                for (uint32_t i = 0; i < n; i++) {
                        describe(pds[i], &d);
                        if (strcasestr(d.name, env))
                                return (int)i;
                }
                return mu_fail(err, MU_ENOTFOUND, "MULLAMA_VULKAN_DEVICE=%s: no Vulkan device "
                               "has that name", env);
        }
        for (uint32_t i = 0; i < n; i++) {
                describe(pds[i], &d);
                int rank = !strcmp(d.type, "discrete") ? 3 : !strcmp(d.type, "integrated") ? 2
                           : !strcmp(d.type, "virtual") ? 1 : 0;
                if (rank > best_rank) {
                        best = (int)i;
                        best_rank = rank;
                }
        }
        if (best < 0)
                return mu_fail(err, MU_ENOTFOUND, "no Vulkan GPU found (a CPU device such as "
                               "lavapipe is used only when MULLAMA_VULKAN_DEVICE names it)");
        return best;
}

static int pipelines_create(struct mu_vk *c, struct mu_err *err)
{
        VkDescriptorSetLayoutBinding b[VK_NBIND];
        VkResult r;

        for (int i = 0; i < VK_NBIND; i++)
                b[i] = (VkDescriptorSetLayoutBinding){
                        .binding = (uint32_t)i,
                        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                        .descriptorCount = 1,
                        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                };
        VkDescriptorSetLayoutCreateInfo dci = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                .bindingCount = VK_NBIND,
                .pBindings = b,
        };
        if ((r = vkCreateDescriptorSetLayout(c->dev, &dci, NULL, &c->dsl)))
                return vk_check(r, err, "vkCreateDescriptorSetLayout");
        VkPushConstantRange pcr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 64};
        VkPipelineLayoutCreateInfo pci = {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                .setLayoutCount = 1,
                .pSetLayouts = &c->dsl,
                .pushConstantRangeCount = 1,
                .pPushConstantRanges = &pcr,
        };
        if ((r = vkCreatePipelineLayout(c->dev, &pci, NULL, &c->pl)))
                return vk_check(r, err, "vkCreatePipelineLayout");
        for (int p = 0; p < VKP_COUNT; p++) {
                VkShaderModuleCreateInfo sci = {
                        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                        .codeSize = spv_table[p].size,
                        .pCode = spv_table[p].code,
                };
                VkShaderModule sm;
                if ((r = vkCreateShaderModule(c->dev, &sci, NULL, &sm)))
                        return vk_check(r, err, "vkCreateShaderModule");
                VkComputePipelineCreateInfo cpi = {
                        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                        .stage = {
                                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                                .module = sm,
                                .pName = "main",
                        },
                        .layout = c->pl,
                };
                r = vkCreateComputePipelines(c->dev, VK_NULL_HANDLE, 1, &cpi, NULL, &c->pipe[p]);
                vkDestroyShaderModule(c->dev, sm, NULL);
                if (r)
                        return vk_check(r, err, "vkCreateComputePipelines");
        }
        return 0;
}

int mu_vk_init(struct mu_vk **out, struct mu_err *err)
{
        struct mu_vk *c = mu_xcalloc(1, sizeof(*c));
        VkPhysicalDevice pds[32];
        uint32_t n = 32;
        int rc, idx;
        VkResult r;

        *out = NULL;
        pthread_mutex_init(&c->lock, NULL);
        if ((rc = instance_create(&c->inst, err)) < 0)
                goto fail;
        if ((rc = list_devices(c->inst, pds, &n, err)) < 0)
                goto fail;
        if ((rc = idx = choose_device(pds, n, err)) < 0)
                goto fail;
        c->pdev = pds[idx];
        describe(c->pdev, &c->info);
        vkGetPhysicalDeviceMemoryProperties(c->pdev, &c->memp);
        {
                VkPhysicalDeviceProperties p;
                vkGetPhysicalDeviceProperties(c->pdev, &p);
                c->max_range = p.limits.maxStorageBufferRange;
        }
        VkQueueFamilyProperties qf[16];
        uint32_t nq = 16;
        vkGetPhysicalDeviceQueueFamilyProperties(c->pdev, &nq, qf);
        for (c->qfam = 0; c->qfam < nq; c->qfam++)
                if (qf[c->qfam].queueFlags & VK_QUEUE_COMPUTE_BIT)
                        break;
        float prio = 1.0f;
        VkDeviceQueueCreateInfo qci = {
                .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                .queueFamilyIndex = c->qfam,
                .queueCount = 1,
                .pQueuePriorities = &prio,
        };
        VkDeviceCreateInfo dci = {
                .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                .queueCreateInfoCount = 1,
                .pQueueCreateInfos = &qci,
        };
        if ((r = vkCreateDevice(c->pdev, &dci, NULL, &c->dev))) {
                rc = vk_check(r, err, "vkCreateDevice");
                goto fail;
        }
        vkGetDeviceQueue(c->dev, c->qfam, 0, &c->queue);
        VkCommandPoolCreateInfo cpci = {
                .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                .queueFamilyIndex = c->qfam,
        };
        VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        if ((r = vkCreateCommandPool(c->dev, &cpci, NULL, &c->cpool)) ||
            (r = vkCreateFence(c->dev, &fci, NULL, &c->fence))) {
                rc = vk_check(r, err, "command pool");
                goto fail;
        }
        if ((rc = pipelines_create(c, err)) < 0 ||
            (rc = vk_buf_create(c, &c->staging, 16u << 20, 1, err)) < 0 ||
            (rc = vk_buf_create(c, &c->dummy, 256, 0, err)) < 0)
                goto fail;
        *out = c;
        return 0;
fail:
        mu_vk_free(c);
        return rc;
}

void mu_vk_free(struct mu_vk *c)
{
        if (!c)
                return;
        if (c->dev) {
                vkDeviceWaitIdle(c->dev);
                vk_buf_free(c, &c->staging);
                vk_buf_free(c, &c->dummy);
                for (int p = 0; p < VKP_COUNT; p++)
                        if (c->pipe[p])
                                vkDestroyPipeline(c->dev, c->pipe[p], NULL);
                if (c->pl)
                        vkDestroyPipelineLayout(c->dev, c->pl, NULL);
                if (c->dsl)
                        vkDestroyDescriptorSetLayout(c->dev, c->dsl, NULL);
                if (c->fence)
                        vkDestroyFence(c->dev, c->fence, NULL);
                if (c->cpool)
                        vkDestroyCommandPool(c->dev, c->cpool, NULL);
                vkDestroyDevice(c->dev, NULL);
        }
        if (c->inst)
                vkDestroyInstance(c->inst, NULL);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

const struct mu_vk_device *mu_vk_info(const struct mu_vk *c) { return &c->info; }
uint64_t mu_vk_mem_used(const struct mu_vk *c) { return c->mem_used; }

/* ---- buffers ------------------------------------------------------------- */

static int find_memory(const struct mu_vk *c, uint32_t bits, VkMemoryPropertyFlags want)
{
        for (uint32_t i = 0; i < c->memp.memoryTypeCount; i++)
                if ((bits & (1u << i)) && (c->memp.memoryTypes[i].propertyFlags & want) == want)
                        return (int)i;
        return -1;
}

int vk_buf_create(struct mu_vk *c, struct vk_buf *b, size_t size, int host, struct mu_err *err)
{
        VkMemoryRequirements req;
        VkResult r;
        int mt;

        memset(b, 0, sizeof(*b));
        /* whole words: shaders read bytes out of uint arrays */
        size = size == 0 ? 16 : (size + 15) & ~(size_t)15;
        VkBufferCreateInfo bci = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                .size = size,
                .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                         VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        };
        if ((r = vkCreateBuffer(c->dev, &bci, NULL, &b->buf)))
                return vk_check(r, err, "vkCreateBuffer");
        vkGetBufferMemoryRequirements(c->dev, b->buf, &req);
        if (host) {
                mt = find_memory(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        } else {
                mt = find_memory(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
                if (mt < 0)
                        mt = find_memory(c, req.memoryTypeBits, 0);
        }
        if (mt < 0) {
                vk_buf_free(c, b);
                return mu_fail(err, MU_EUNSUPPORTED, "vulkan: no suitable memory type");
        }
        VkMemoryAllocateInfo mai = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                .allocationSize = req.size,
                .memoryTypeIndex = (uint32_t)mt,
        };
        if ((r = vkAllocateMemory(c->dev, &mai, NULL, &b->mem))) {
                vk_buf_free(c, b);
                return vk_check(r, err, "vkAllocateMemory");
        }
        vkBindBufferMemory(c->dev, b->buf, b->mem, 0);
        b->size = size;
        if (c->memp.memoryTypes[mt].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT &&
            c->memp.memoryTypes[mt].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) {
                if ((r = vkMapMemory(c->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map))) {
                        vk_buf_free(c, b);
                        return vk_check(r, err, "vkMapMemory");
                }
        }
        c->mem_used += req.size;
        return 0;
}

void vk_buf_free(struct mu_vk *c, struct vk_buf *b)
{
        if (b->mem) {
                VkMemoryRequirements req;
                vkGetBufferMemoryRequirements(c->dev, b->buf, &req);
                c->mem_used -= req.size;
        }
        if (b->buf)
                vkDestroyBuffer(c->dev, b->buf, NULL);
        if (b->mem)
                vkFreeMemory(c->dev, b->mem, NULL);
        memset(b, 0, sizeof(*b));
}

/* One-off command buffer: copy, submit, wait.  Called with c->lock held. */
static int copy_now(struct mu_vk *c, VkBuffer src, size_t soff, VkBuffer dst, size_t doff,
                    size_t n, struct mu_err *err)
{
        VkCommandBufferAllocateInfo ai = {
                .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                .commandPool = c->cpool,
                .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                .commandBufferCount = 1,
        };
        VkCommandBufferBeginInfo bi = {
                .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
        };
        VkCommandBuffer cb;
        VkResult r;

        if ((r = vkAllocateCommandBuffers(c->dev, &ai, &cb)))
                return vk_check(r, err, "vkAllocateCommandBuffers");
        vkBeginCommandBuffer(cb, &bi);
        VkBufferCopy reg = {soff, doff, n};
        vkCmdCopyBuffer(cb, src, dst, 1, &reg);
        vkEndCommandBuffer(cb);
        VkSubmitInfo si = {
                .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                .commandBufferCount = 1,
                .pCommandBuffers = &cb,
        };
        vkResetFences(c->dev, 1, &c->fence);
        r = vkQueueSubmit(c->queue, 1, &si, c->fence);
        if (r == VK_SUCCESS)
                r = vkWaitForFences(c->dev, 1, &c->fence, VK_TRUE, UINT64_MAX);
        vkFreeCommandBuffers(c->dev, c->cpool, 1, &cb);
        return vk_check(r, err, "copy");
}

int vk_upload(struct mu_vk *c, struct vk_buf *b, size_t off, const void *src, size_t n,
              struct mu_err *err)
{
        int rc = 0;

        if (b->map) {
                memcpy((char *)b->map + off, src, n);
                return 0;
        }
        pthread_mutex_lock(&c->lock);
        for (size_t done = 0; done < n && rc == 0;) {
                size_t k = n - done < c->staging.size ? n - done : c->staging.size;
                memcpy(c->staging.map, (const char *)src + done, k);
                rc = copy_now(c, c->staging.buf, 0, b->buf, off + done, k, err);
                done += k;
        }
        pthread_mutex_unlock(&c->lock);
        return rc;
}

int vk_download(struct mu_vk *c, struct vk_buf *b, size_t off, void *dst, size_t n,
                struct mu_err *err)
{
        int rc = 0;

        if (b->map) {
                memcpy(dst, (const char *)b->map + off, n);
                return 0;
        }
        pthread_mutex_lock(&c->lock);
        for (size_t done = 0; done < n && rc == 0;) {
                size_t k = n - done < c->staging.size ? n - done : c->staging.size;
                rc = copy_now(c, b->buf, off + done, c->staging.buf, 0, k, err);
                if (rc == 0)
                        memcpy((char *)dst + done, c->staging.map, k);
                done += k;
        }
        pthread_mutex_unlock(&c->lock);
        return rc;
}

#else /* !MU_HAVE_VULKAN */

#include "mullama/vulkan.h"

int mu_vk_devices(struct mu_vk_device *out, int max, struct mu_err *err)
{
        (void)out;
        (void)max;
        return mu_fail(err, MU_EUNSUPPORTED, "built without Vulkan (VULKAN=0)");
}

int mu_vk_init(struct mu_vk **out, struct mu_err *err)
{
        *out = NULL;
        return mu_fail(err, MU_EUNSUPPORTED, "built without Vulkan (VULKAN=0)");
}

void mu_vk_free(struct mu_vk *vk) { (void)vk; }
const struct mu_vk_device *mu_vk_info(const struct mu_vk *vk) { (void)vk; return NULL; }
uint64_t mu_vk_mem_used(const struct mu_vk *vk) { (void)vk; return 0; }

#endif
