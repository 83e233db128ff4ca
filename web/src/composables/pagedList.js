import { ref } from 'vue'
import { useApolloClient } from '@vue/apollo-composable'
import { describeError } from '../lib/errors.js'

/**
 * A cursor-paginated PasteConnection ("Load more"): `field` is the Query field
 * (recentPastes / myPastes) selected by `query` with ($first, $after).
 */
export function usePagedList(query, field, pageSize = 20) {
  const { resolveClient } = useApolloClient()
  const items = ref([])
  const endCursor = ref(null)
  const hasNext = ref(false)
  const loading = ref(false)
  const error = ref(null)
  const loaded = ref(false)

  async function load(more = false) {
    if (loading.value) return
    loading.value = true
    error.value = null
    try {
      const { data } = await resolveClient().query({
        query,
        variables: { first: pageSize, after: more ? endCursor.value : null },
        fetchPolicy: 'no-cache',
      })
      const conn = data[field]
      const seen = new Set(more ? items.value.map((p) => p.id) : [])
      const fresh = conn.nodes.filter((p) => !seen.has(p.id))
      items.value = more ? [...items.value, ...fresh] : fresh
      endCursor.value = conn.pageInfo.endCursor
      hasNext.value = conn.pageInfo.hasNextPage && !!conn.pageInfo.endCursor
      loaded.value = true
    } catch (e) {
      error.value = describeError(e)
    } finally {
      loading.value = false
    }
  }

  function remove(id) {
    items.value = items.value.filter((p) => p.id !== id)
  }

  return { items, hasNext, loading, error, loaded, reload: () => load(false), loadMore: () => load(true), remove }
}
