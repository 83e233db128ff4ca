variable "name" {
  description = "Repository name (the image name), e.g. pastebin."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the images at rest (the region's key)."
  type        = string
}

variable "keep_images" {
  description = "How many images to keep (rollback depth)."
  type        = number
  default     = 200
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
