/* vulkan_ops.c -- recording graphs: a command buffer plus the descriptor
 * pool its sets come from.  vk_op() allocates and writes one descriptor set,
 * binds the pipeline, pushes constants, dispatches and adds a compute ->
 * compute barrier; vk_copy() records a buffer copy with a barrier.  A graph
 * is recorded once per shape and submitted as often as wanted. */
#ifdef MU_HAVE_VULKAN
#include <string.h>

#include "kernels/vulkan_impl.h"

static void barrier(VkCommandBuffer cb)
{
        VkMemoryBarrier mb = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                 VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        };
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                             0, 1, &mb, 0, NULL, 0, NULL);
}

int vk_graph_begin(struct mu_vk *c, struct vk_graph *g, int max_ops, struct mu_err *err)
{
        VkResult r;

        if (!g->cb) {
                VkCommandBufferAllocateInfo ai = {
                        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                        .commandPool = c->cpool,
                        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                        .commandBufferCount = 1,
                };
                pthread_mutex_lock(&c->lock);
                r = vkAllocateCommandBuffers(c->dev, &ai, &g->cb);
                pthread_mutex_unlock(&c->lock);
                if (r)
                        return mu_fail(err, MU_EIO, "vulkan: vkAllocateCommandBuffers: %d", (int)r);
        }
        if (g->pool && g->n_sets < max_ops) {
                vkDestroyDescriptorPool(c->dev, g->pool, NULL);
                g->pool = VK_NULL_HANDLE;
        }
        if (!g->pool) {
                VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           (uint32_t)(max_ops * VK_NBIND)};
                VkDescriptorPoolCreateInfo pci = {
                        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                        .maxSets = (uint32_t)max_ops,
                        .poolSizeCount = 1,
                        .pPoolSizes = &ps,
                };
                if ((r = vkCreateDescriptorPool(c->dev, &pci, NULL, &g->pool)))
                        return mu_fail(err, MU_ENOMEM, "vulkan: vkCreateDescriptorPool: %d", (int)r);
                g->n_sets = max_ops;
        } else {
                vkResetDescriptorPool(c->dev, g->pool, 0);
        }
        pthread_mutex_lock(&c->lock);
        vkResetCommandBuffer(g->cb, 0);
        pthread_mutex_unlock(&c->lock);
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        vkBeginCommandBuffer(g->cb, &bi);
        g->key = -1;
        return 0;
}

void vk_op(struct mu_vk *c, struct vk_graph *g, enum vk_pipe p, struct vk_buf *const *bufs,
           const void *pc, uint32_t pc_size, uint32_t gx, uint32_t gy)
{
        VkDescriptorSetAllocateInfo ai = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                .descriptorPool = g->pool,
                .descriptorSetCount = 1,
                .pSetLayouts = &c->dsl,
        };
        VkDescriptorBufferInfo bi[VK_NBIND];
        VkWriteDescriptorSet wr[VK_NBIND];
        VkDescriptorSet set;

        if (gx == 0 || gy == 0)
                return;
        vkAllocateDescriptorSets(c->dev, &ai, &set);
        for (int i = 0; i < VK_NBIND; i++) {
                const struct vk_buf *b = bufs[i] ? bufs[i] : &c->dummy;
                bi[i] = (VkDescriptorBufferInfo){b->buf, 0, VK_WHOLE_SIZE};
                wr[i] = (VkWriteDescriptorSet){
                        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                        .dstSet = set,
                        .dstBinding = (uint32_t)i,
                        .descriptorCount = 1,
                        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                        .pBufferInfo = &bi[i],
                };
        }
        vkUpdateDescriptorSets(c->dev, VK_NBIND, wr, 0, NULL);
        vkCmdBindPipeline(g->cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pipe[p]);
        vkCmdBindDescriptorSets(g->cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->pl, 0, 1, &set, 0, NULL);
        if (pc_size)
                vkCmdPushConstants(g->cb, c->pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, pc_size, pc);
        /* more groups than a dimension allows (rows of a big output
         * matrix): split x over z; shaders that can see this check bounds */
        uint32_t gz = 1;
        if (gx > 65535) {
                gz = (gx + 65534) / 65535;
                gx = 65535;
        }
        vkCmdDispatch(g->cb, gx, gy, gz);
        barrier(g->cb);
}

void vk_copy(struct vk_graph *g, struct vk_buf *src, size_t soff, struct vk_buf *dst,
             size_t doff, size_t n)
{
        VkBufferCopy reg = {soff, doff, n};

        vkCmdCopyBuffer(g->cb, src->buf, dst->buf, 1, &reg);
        barrier(g->cb);
}

int vk_graph_end(struct vk_graph *g, struct mu_err *err)
{
        VkResult r = vkEndCommandBuffer(g->cb);

        if (r)
                return mu_fail(err, MU_EIO, "vulkan: vkEndCommandBuffer: %d", (int)r);
        return 0;
}

int vk_graph_run(struct mu_vk *c, struct vk_graph *g, struct mu_err *err)
{
        VkSubmitInfo si = {
                .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                .commandBufferCount = 1,
                .pCommandBuffers = &g->cb,
        };
        VkResult r;

        pthread_mutex_lock(&c->lock);
        vkResetFences(c->dev, 1, &c->fence);
        r = vkQueueSubmit(c->queue, 1, &si, c->fence);
        if (r == VK_SUCCESS)
                r = vkWaitForFences(c->dev, 1, &c->fence, VK_TRUE, UINT64_MAX);
        pthread_mutex_unlock(&c->lock);
        if (r == VK_ERROR_DEVICE_LOST)
                return mu_fail(err, MU_EIO, "vulkan: device lost");
        if (r)
                return mu_fail(err, MU_EIO, "vulkan: submit failed (VkResult %d)", (int)r);
        return 0;
}

void vk_graph_free(struct mu_vk *c, struct vk_graph *g)
{
        if (g->pool)
                vkDestroyDescriptorPool(c->dev, g->pool, NULL);
        if (g->cb) {
                pthread_mutex_lock(&c->lock);
                vkFreeCommandBuffers(c->dev, c->cpool, 1, &g->cb);
                pthread_mutex_unlock(&c->lock);
        }
        memset(g, 0, sizeof(*g));
}

#else
typedef int vulkan_ops_unused;  /* ISO C: no empty translation unit */
#endif
