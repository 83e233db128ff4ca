variable "name" {
  description = "Name prefix, e.g. pastebin-prod-a; the alias becomes alias/<name>."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
