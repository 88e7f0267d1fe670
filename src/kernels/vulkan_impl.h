/* vulkan_impl.h -- what vulkan.c, vulkan_ops.c and the engine's
 * vk_forward.c share: the device context (struct mu_vk), buffers, pipelines
 * and recorded graphs (one command buffer + its descriptor pool).
 *
 * Every pipeline has the same layout: NBIND storage buffers (unused ones
 * bound to a dummy) and up to 64 bytes of push constants; offsets into
 * buffers travel as push constants, so one buffer per layer holds all of its
 * weights.  Recording: vk_graph_begin, vk_op/vk_copy..., vk_graph_end; then
 * vk_graph_run as often as wanted (submit + wait on a fence).  Each recorded
 * op is followed by a compute barrier, so ops see the results of earlier
 * ones. */
#ifndef MULLAMA_VULKAN_IMPL_H
#define MULLAMA_VULKAN_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "mullama/vulkan.h"

#define VK_NBIND 6

enum vk_pipe {
        VKP_MM_F32, VKP_MM_F16, VKP_MM_BF16, VKP_MM_Q4_0, VKP_MM_Q4_1, VKP_MM_Q5_0,
        VKP_MM_Q5_1, VKP_MM_Q8_0, VKP_MM_Q2_K, VKP_MM_Q3_K, VKP_MM_Q4_K, VKP_MM_Q5_K,
        VKP_MM_Q6_K,
        VKP_Q8_0, VKP_Q8_1, VKP_Q8_K,
        VKP_RMSNORM, VKP_ROPE, VKP_KV_STORE, VKP_ATTN, VKP_GLU, VKP_ADD, VKP_SOFTCAP,
        VKP_COPY, VKP_FMATH,
        VKP_COUNT
};

struct vk_buf {
        VkBuffer buf;
        VkDeviceMemory mem;
        VkDeviceSize size;
        void *map;  /* host-visible buffers: persistently mapped */
};

struct mu_vk {
        struct mu_vk_device info;
        VkInstance inst;
        VkPhysicalDevice pdev;
        VkDevice dev;
        VkQueue queue;
        uint32_t qfam;
        VkPhysicalDeviceMemoryProperties memp;
        VkDeviceSize max_range;  /* maxStorageBufferRange */
        VkDescriptorSetLayout dsl;
        VkPipelineLayout pl;
        VkPipeline pipe[VKP_COUNT];
        VkCommandPool cpool;
        VkFence fence;
        pthread_mutex_t lock;  /* queue, command pool, staging */
        struct vk_buf staging, dummy;
        uint64_t mem_used;
};

/* host: HOST_VISIBLE|COHERENT and mapped; else device-local when possible. */
int vk_buf_create(struct mu_vk *c, struct vk_buf *b, size_t size, int host, struct mu_err *err);
void vk_buf_free(struct mu_vk *c, struct vk_buf *b);
/* Copy host memory to/from a buffer (through the staging buffer, or
 * directly when the buffer is mapped). */
int vk_upload(struct mu_vk *c, struct vk_buf *b, size_t off, const void *src, size_t n,
              struct mu_err *err);
int vk_download(struct mu_vk *c, struct vk_buf *b, size_t off, void *dst, size_t n,
                struct mu_err *err);

struct vk_graph {
        VkCommandBuffer cb;
        VkDescriptorPool pool;
        int n_sets;
        int key;         /* caller's shape key; -1: empty */
        uint64_t used;   /* LRU stamp */
};

int vk_graph_begin(struct mu_vk *c, struct vk_graph *g, int max_ops, struct mu_err *err);
/* bufs[VK_NBIND] (NULL entries: dummy); groups gx * gy. */
void vk_op(struct mu_vk *c, struct vk_graph *g, enum vk_pipe p, struct vk_buf *const *bufs,
           const void *pc, uint32_t pc_size, uint32_t gx, uint32_t gy);
void vk_copy(struct vk_graph *g, struct vk_buf *src, size_t soff, struct vk_buf *dst,
             size_t doff, size_t n);
int vk_graph_end(struct vk_graph *g, struct mu_err *err);
int vk_graph_run(struct mu_vk *c, struct vk_graph *g, struct mu_err *err);
void vk_graph_free(struct mu_vk *c, struct vk_graph *g);

/* The mul_mat pipeline for a weight type; -1 when there is none.  And the
 * quantize pipeline for its activations; -1: activations stay f32. */
int vk_mm_pipe(int type);
int vk_quant_pipe(int type);

#endif
